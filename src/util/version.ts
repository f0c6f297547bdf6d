/** The robot-nas package version (package.json sits next to dist/ and src/). */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const PACKAGE_VERSION = (require('../../package.json') as { version: string }).version;
