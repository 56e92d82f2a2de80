/**
 * `npm run build`: src/ compiled to JavaScript in dist/ (same layout), which `npm start` runs
 * with plain node. Running the sources through tsx's loader cost each serving process ~80 MB
 * more (docs/benchmarks.md). Each file is transpiled on its own (no type check: `npm test` runs
 * tsc), so a full build takes about 5 s, and it starts from an empty dist/, which never holds a
 * stale file.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const { config, error } = ts.readConfigFile('tsconfig.json', ts.sys.readFile);
if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
const { options } = ts.convertCompilerOptionsFromJson({ ...config.compilerOptions, noEmit: false }, '.');
// NodeNext picks each file's format from package.json, which a file transpiled alone cannot see:
// the package is "type": "module", so every file is an ES module.
options.module = ts.ModuleKind.ES2022;

fs.rmSync('dist', { recursive: true, force: true });
let files = 0;
for (const name of fs.readdirSync('src', { recursive: true }).map(String)) {
  const from = path.join('src', name);
  if (fs.statSync(from).isDirectory() || name.endsWith('.test.ts') || name.endsWith('.d.ts')) continue;
  const to = path.join('dist', name.endsWith('.ts') ? `${name.slice(0, -3)}.js` : name);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  // Everything else (decision weights, SQL migrations) is read at run time beside its module.
  if (!name.endsWith('.ts')) fs.copyFileSync(from, to);
  else fs.writeFileSync(to, ts.transpileModule(fs.readFileSync(from, 'utf8'), { compilerOptions: options, fileName: from }).outputText);
  files++;
}
console.log(`build: ${files} files from src/ into dist/`);
