// The repository's lint, plus its type-aware rules for the launcher's plain JavaScript (checked by tsc via checkJs).
import globals from 'globals';
import tseslint from 'typescript-eslint';
import root from '../../eslint.config.js';

/** The root's block of its own rules for TypeScript; they apply to the launcher's .mjs files as well. */
const typeAware = root.find((config) => config.rules?.['import-x/no-cycle']);

export default [
  ...root,
  {
    files: ['**/*.mjs'],
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { parser: tseslint.parser, projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: typeAware.plugins,
    rules: typeAware.rules,
  },
];
