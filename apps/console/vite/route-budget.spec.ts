import { describe, expect, it } from 'vitest';
import { FIRST_ROUTE_BUDGET, LATER_ROUTE_BUDGET, routeSizes, type Manifest } from './route-budget';

// A console in miniature: the entry, the login page, the shell, the dashboard with a lazy chart, and two
// later pages sharing a chunk that the dashboard also loads.
const manifest: Manifest = {
  'index.html': {
    file: 'assets/index.js',
    isEntry: true,
    imports: ['_vue.js'],
    dynamicImports: ['src/views/LoginView.vue', 'src/components/AppShell.vue', 'src/views/DashboardView.vue'],
  },
  '_vue.js': { file: 'assets/vue.js' },
  '_table.js': { file: 'assets/table.js', imports: ['_vue.js'] },
  '_form.js': { file: 'assets/form.js', imports: ['_vue.js'] },
  'src/views/LoginView.vue': { file: 'assets/login.js', isDynamicEntry: true, imports: ['_form.js'] },
  'src/components/AppShell.vue': { file: 'assets/shell.js', isDynamicEntry: true, imports: ['_vue.js'] },
  'src/views/DashboardView.vue': {
    file: 'assets/dashboard.js',
    isDynamicEntry: true,
    imports: ['_table.js'],
    dynamicImports: ['src/components/UsageChart.vue', 'src/views/DevicesView.vue'],
  },
  'src/components/UsageChart.vue': {
    file: 'assets/chart.js',
    isDynamicEntry: true,
    imports: ['_echarts.js'],
  },
  '_echarts.js': { file: 'assets/echarts.js' },
  'src/views/DevicesView.vue': { file: 'assets/devices.js', isDynamicEntry: true, imports: ['_table.js'] },
  'src/views/AuditView.vue': {
    file: 'assets/audit.js',
    isDynamicEntry: true,
    imports: ['_table.js', '_datepicker.js', '_style.css'],
  },
  '_datepicker.js': { file: 'assets/datepicker.js' },
  '_style.css': { file: 'assets/style.css' },
};

const sizes: Record<string, number> = {
  'assets/index.js': 10,
  'assets/vue.js': 100,
  'assets/table.js': 30,
  'assets/form.js': 20,
  'assets/login.js': 1,
  'assets/shell.js': 5,
  'assets/dashboard.js': 7,
  'assets/chart.js': 2,
  'assets/echarts.js': 180,
  'assets/devices.js': 3,
  'assets/audit.js': 4,
  'assets/datepicker.js': 40,
  'assets/style.css': 1000,
};

describe('routeSizes', () => {
  const result = routeSizes(manifest, (file) => sizes[file]!);
  const of = (route: string) => result.find((size) => size.route === route);

  it('counts the first route as the entry, login, shell and dashboard with their imports, each chunk once', () => {
    expect(of('first route (login, dashboard)')).toEqual({
      route: expect.any(String),
      bytes: 173,
      budget: FIRST_ROUTE_BUDGET,
    });
  });

  it("counts the dashboard's lazy chart apart, and not the pages it links to", () => {
    expect(of('dashboard, once shown (charts)')?.bytes).toBe(182);
  });

  it('counts a later route as what it adds to what the dashboard loaded, scripts only', () => {
    expect(of('src/views/DevicesView.vue')).toEqual({
      route: 'src/views/DevicesView.vue',
      bytes: 3,
      budget: LATER_ROUTE_BUDGET,
    });
    expect(of('src/views/AuditView.vue')?.bytes).toBe(44);
  });

  it('names a chunk missing from the manifest', () => {
    const broken: Manifest = {
      ...manifest,
      'src/views/RunView.vue': { file: 'assets/run.js', imports: ['_gone.js'] },
    };
    expect(() => routeSizes(broken, () => 1)).toThrow('_gone.js');
  });
});
