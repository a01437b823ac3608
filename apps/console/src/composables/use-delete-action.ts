import { NButton, NPopconfirm, useMessage } from 'naive-ui';
import { h, type VNode } from 'vue';
import { useI18n } from 'vue-i18n';
import { useErrorText } from '@/composables/use-error-text';

/**
 * Delete for a table row behind a confirmation: the outcome is reported as a toast, so a failed delete
 * leaves the row as it was and never surfaces as an unhandled rejection.
 */
export function useDeleteAction<T>(remove: (row: T) => Promise<unknown>, deletedText: (row: T) => string) {
  const { t } = useI18n();
  const message = useMessage();
  const errorText = useErrorText();

  async function run(row: T): Promise<void> {
    try {
      await remove(row);
      message.success(deletedText(row));
    } catch (caught) {
      message.error(errorText(caught));
    }
  }

  /** `label` names the button when the action is not a deletion (e.g. revoke). */
  function renderDelete(row: T, options: { testId: string; confirm: string; label?: string }): VNode {
    return h(
      NPopconfirm,
      { onPositiveClick: () => void run(row) },
      {
        trigger: () =>
          h(
            NButton,
            { size: 'small', type: 'error', secondary: true, 'data-testid': options.testId },
            () => options.label ?? t('common.delete'),
          ),
        default: () => options.confirm,
      },
    );
  }

  return { renderDelete };
}
