// Installs onnxruntime-node, which only bench:compare uses, when it is missing: kept out of the
// devDependencies so that `npm install` does not fetch its ~290 MB for everyone. --no-save leaves
// package.json and the lock file as they are; its install script stays denied (allowScripts).
import { execFileSync } from 'node:child_process';

const PEER = 'onnxruntime-node@1.30.0';
try {
  await import('onnxruntime-node');
} catch {
  console.error(`bench: installing ${PEER} for the onnxruntime column (once)`);
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', PEER], { stdio: 'inherit' });
}
