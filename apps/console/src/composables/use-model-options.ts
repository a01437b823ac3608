import { computed } from 'vue';
import { useProvidersStore } from '@/stores/providers';
import type { FormModelRef } from '@/utils/agent-form';

/** The choices of the agent form's provider and model pickers, from the providers the fleet knows. */
export function useModelOptions() {
  const providers = useProvidersStore();

  const providerOptions = computed(() =>
    providers.all.map((p) => ({ label: `${p.name} (${p.id})`, value: p.id })),
  );

  /** The provider's models, plus the one typed in when the provider does not list it. */
  function modelOptions(ref: FormModelRef) {
    const models = ref.provider ? (providers.get(ref.provider)?.models ?? []) : [];
    const all = ref.model && !models.includes(ref.model) ? [ref.model, ...models] : models;
    return all.map((m) => ({ label: m, value: m }));
  }

  return { providerOptions, modelOptions };
}
