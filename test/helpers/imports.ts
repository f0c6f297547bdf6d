/**
 * The import graph of the TypeScript sources under a folder, read with the TypeScript parser (no module is loaded):
 * every static import and re-export, every dynamic `import('…')`, each marked type-only or not. Used by the
 * structure tests (test/structure/).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** Absolute path of the imported source file, or the package name for a bare specifier. */
  to: string;
  /** Erased at compile time (`import type`, or only type bindings): loads nothing at run time. */
  typeOnly: boolean;
  /** `import('…')`: loaded when the code runs, not when the module is imported. */
  dynamic: boolean;
}

/** Every .ts file under `dir`, sorted. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
    }
  };
  walk(resolve(dir));
  return out;
}

function target(file: string, spec: string): string {
  if (!spec.startsWith('.')) return spec.startsWith('node:') ? spec : spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
  return resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
}

/** A named-bindings clause whose every element is `type X`. */
function onlyTypes(elements: ts.NodeArray<ts.ImportSpecifier | ts.ExportSpecifier>): boolean {
  return elements.length > 0 && elements.every((e) => e.isTypeOnly);
}

export function importsOf(file: string): ImportEdge[] {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const edges: ImportEdge[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const c = node.importClause;
      const named = c?.namedBindings;
      const typeOnly = c !== undefined && (c.isTypeOnly || (c.name === undefined && named !== undefined && ts.isNamedImports(named) && onlyTypes(named.elements)));
      edges.push({ to: target(file, node.moduleSpecifier.text), typeOnly, dynamic: false });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause;
      const typeOnly = node.isTypeOnly || (named !== undefined && ts.isNamedExports(named) && onlyTypes(named.elements));
      edges.push({ to: target(file, node.moduleSpecifier.text), typeOnly, dynamic: false });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      edges.push({ to: target(file, node.arguments[0].text), typeOnly: false, dynamic: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return edges;
}

/** File → its imports, for every source file under `dir`. */
export function importGraph(dir: string): Map<string, ImportEdge[]> {
  return new Map(sourceFiles(dir).map((f) => [f, importsOf(f)]));
}

/** The strongly connected components with more than one member (or a self-import): the import cycles. */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return found;
}

/** A path relative to `root`, with forward slashes. */
export function rel(root: string, p: string): string {
  return relative(root, p).split('\\').join('/');
}
