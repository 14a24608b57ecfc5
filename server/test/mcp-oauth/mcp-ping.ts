/** An MCP ping at a config URL with `token` as the bearer: its status says whether the token gets in. */
export function mcpPing(fetchFn: typeof fetch, url: string, token: string): Promise<Response> {
  return fetchFn(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });
}
