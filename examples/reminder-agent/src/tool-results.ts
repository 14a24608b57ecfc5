import type { MessageContent } from '@langchain/core/messages';

/** The text of a message's content, whether a string or a list of content blocks. */
export function contentText(content: MessageContent): string {
  if (typeof content === 'string') return content;
  return content
    .map((block) => {
      if (typeof block === 'string') return block;
      if ('text' in block && typeof block.text === 'string') return block.text;
      return '';
    })
    .join('');
}

/** JSON.parse that answers undefined for anything that is not JSON. */
export function parseJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
