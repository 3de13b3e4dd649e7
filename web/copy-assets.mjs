// Copies the hand-written static files next to the compiled scripts: web/dist is what the API serves.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = dirname(fileURLToPath(import.meta.url));
const dist = join(web, 'dist');
mkdirSync(dist, { recursive: true });
for (const file of ['index.html', 'styles.css', 'favicon.svg'])
  copyFileSync(join(web, file), join(dist, file));
if (!existsSync(join(dist, 'js', 'main.js'))) {
  console.error('web/dist/js/main.js is missing: run tsc -p web/tsconfig.build.json first');
  process.exit(1);
}
