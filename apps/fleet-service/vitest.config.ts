import { nestVitestConfig } from '@agentbox/test-support/nest-vitest-config';

export default nestVitestConfig();
