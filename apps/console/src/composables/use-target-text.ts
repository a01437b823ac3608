import type { AssignmentTarget } from '@agentbox/schemas';
import { useI18n } from 'vue-i18n';
import { useDevicesStore } from '@/stores/devices';

/** "All boxes", "Box: lab-3", "Tag: edge" in the current language. */
export function useTargetText(): (target: AssignmentTarget) => string {
  const { t } = useI18n();
  const devices = useDevicesStore();
  return (target) => {
    switch (target.type) {
      case 'all':
        return t('assignments.all');
      case 'device':
        return t('assignments.device', { name: devices.get(target.deviceId)?.name ?? target.deviceId });
      case 'tag':
        return t('assignments.tag', { tag: target.tag });
    }
  };
}
