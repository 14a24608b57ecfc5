import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TREES = ['server/src', 'server/test', 'sdk', 'examples', 'bench'];

/**
 * Matchers that compare an expected value property by property. A regex there is not a pattern:
 * Vitest 4's `toMatchObject({ message: /nope/ })` passes for a message 'yes', and `toEqual`
 * compares it as an object. `expect.stringMatching(/…/)` is the matcher that matches.
 */
const OBJECT_MATCHERS = new Set([
  'toMatchObject',
  'toEqual',
  'toStrictEqual',
  'toContainEqual',
  'toHaveBeenCalledWith',
  'objectContaining',
  'arrayContaining',
]);

/**
 * `file:line: code` of each regex inside the expected value of an object matcher: a literal, or
 * a name the file binds to one (`const message = /…/`, then `toMatchObject({ message })`).
 */
function regexesInObjectMatchers(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const regexNames = new Set<string>();
  const collect = (node: ts.Node): void => {
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.initializer?.kind === ts.SyntaxKind.RegularExpressionLiteral
    )
      regexNames.add(node.name.text);
    ts.forEachChild(node, collect);
  };
  collect(source);
  const visit = (node: ts.Node, inMatcher: boolean): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const name = ts.isPropertyAccessExpression(callee)
        ? callee.name.text
        : ts.isIdentifier(callee)
          ? callee.text
          : '';
      // Matchers that do take a pattern: what is inside them is fine.
      if (name === 'stringMatching' || name === 'toMatch' || name === 'toThrow' || name === 'toThrowError') return;
      if (OBJECT_MATCHERS.has(name)) {
        for (const argument of node.arguments) visit(argument, true);
        return;
      }
    }
    const isRegex =
      node.kind === ts.SyntaxKind.RegularExpressionLiteral ||
      (ts.isIdentifier(node) && regexNames.has(node.text) && !isPropertyName(node));
    if (inMatcher && isRegex) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      found.push(`${file}:${line + 1}: ${text.split('\n')[line]?.trim()}`);
    }
    ts.forEachChild(node, (child) => visit(child, inMatcher));
  };
  visit(source, false);
  return found;
}

/** `message` in `{ message: … }` or `error.message`: a name, not a value. */
function isPropertyName(node: ts.Identifier): boolean {
  const parent = node.parent;
  return (ts.isPropertyAssignment(parent) || ts.isPropertyAccessExpression(parent)) && parent.name === node;
}

function testFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name === 'dist' || name === 'gen') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...testFiles(path));
    else if (name.endsWith('.test.ts') || (name.endsWith('.ts') && path.includes(`${sep}test${sep}`))) files.push(path);
  }
  return files;
}

describe('assertion patterns', () => {
  it('no test puts a regex inside toMatchObject, toEqual or objectContaining (expect.stringMatching matches)', () => {
    const found = TREES.flatMap((tree) =>
      testFiles(join(REPO, tree)).flatMap((path) =>
        regexesInObjectMatchers(relative(REPO, path), readFileSync(path, 'utf8')),
      ),
    );
    expect(found).toEqual([]);
  });

  it('finds such a regex however deep, and leaves stringMatching, toMatch and toThrow alone', () => {
    const sample = [
      "expect(error).toMatchObject({ code: 'x', message: /not authorized/ });",
      'await expect(call()).rejects.toMatchObject({',
      '  error: { message: /deep/ },',
      '});',
      'expect(list).toEqual([expect.objectContaining({ name: /inner/ })]);',
      'const message = /bound/;',
      "expect(error).toMatchObject({ code: 'x', message });",
      'expect(error).toMatchObject({ message: expect.stringMatching(/fine/) });',
      'expect(text).toMatch(/fine/);',
      'expect(() => run()).toThrow(/fine/);',
    ].join('\n');
    expect(regexesInObjectMatchers('sample.ts', sample)).toEqual([
      "sample.ts:1: expect(error).toMatchObject({ code: 'x', message: /not authorized/ });",
      'sample.ts:3: error: { message: /deep/ },',
      'sample.ts:5: expect(list).toEqual([expect.objectContaining({ name: /inner/ })]);',
      "sample.ts:7: expect(error).toMatchObject({ code: 'x', message });",
    ]);
  });
});
