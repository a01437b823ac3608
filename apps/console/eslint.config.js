// The repository's lint, minus the eslint-plugin-vue layout rules that fight Prettier (the formatter wins).
import root from '../../eslint.config.js';

export default [
  ...root,
  {
    files: ['**/*.vue'],
    rules: {
      'vue/max-attributes-per-line': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
      'vue/html-closing-bracket-spacing': 'off',
    },
  },
];
