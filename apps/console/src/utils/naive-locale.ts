import { createLocale, enUS, type NLocale } from 'naive-ui';

/**
 * naive-ui's English locale without its generic placeholders ("Please Input", "Please Select"): next to a
 * field's label they read as filler, so a field shows a placeholder only where it gives an example of its
 * own. The Chinese defaults (请输入, 请选择) are what Chinese forms say and stay.
 */
export const consoleEnUS: NLocale = createLocale(
  {
    Input: { placeholder: '' },
    InputNumber: { placeholder: '' },
    Select: { placeholder: '' },
    Cascader: { placeholder: '' },
  },
  enUS,
);
