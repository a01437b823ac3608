/**
 * What each route of the console makes the browser download, from Vite's manifest
 * (`dist/.vite/manifest.json`): the JavaScript chunks a route's view pulls in through static imports,
 * counted gzipped. Shared by the build's report (web-delivery-plugin.ts) and the CI check
 * (vite/check-route-budget.ts). Each view under src/views is a route; a new lazy page is counted
 * without any change here.
 */

/** One entry of Vite's manifest (only the fields read here). */
export interface ManifestChunk {
  file: string;
  src?: string;
  isEntry?: boolean;
  isDynamicEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}

export type Manifest = Record<string, ManifestChunk>;

export interface RouteSize {
  /** The view's file, e.g. `src/views/DevicesView.vue`, or the first route's parts. */
  route: string;
  /** Gzipped bytes of the JavaScript it fetches. */
  bytes: number;
  budget: number;
}

/** Gzipped JavaScript the browser may fetch before the dashboard shows: the login page, then the dashboard. */
export const FIRST_ROUTE_BUDGET = 300 * 1024;
/** Gzipped JavaScript for each later route, on top of what the first route loaded. */
export const LATER_ROUTE_BUDGET = 150 * 1024;

const LOGIN = 'src/views/LoginView.vue';
const SHELL = 'src/components/AppShell.vue';
const DASHBOARD = 'src/views/DashboardView.vue';
const VIEW = /^src\/views\/[^/]+\.vue$/;

/** The manifest keys of `roots` and of everything they import statically, transitively. */
function closure(manifest: Manifest, roots: string[]): Set<string> {
  const seen = new Set<string>();
  const pending = [...roots];
  for (let key = pending.pop(); key !== undefined; key = pending.pop()) {
    if (seen.has(key)) continue;
    const chunk = manifest[key];
    if (!chunk) throw new Error(`${key} is not in Vite's manifest`);
    seen.add(key);
    pending.push(...(chunk.imports ?? []));
  }
  return seen;
}

/**
 * The first route (entry, login, shell, dashboard), then what the dashboard loads once it shows (its
 * chart), then each other view with the parts it loads lazily, counted as the JavaScript it adds to what
 * the dashboard loaded: what opening it from there costs. `gzipSize` gives the gzipped size of an emitted
 * file (`assets/…js`).
 */
export function routeSizes(manifest: Manifest, gzipSize: (file: string) => number): RouteSize[] {
  const entry = Object.keys(manifest).find((key) => manifest[key]?.isEntry);
  if (!entry) throw new Error("Vite's manifest has no entry");
  const bytes = (keys: Iterable<string>): number => {
    let total = 0;
    for (const key of keys) {
      const file = manifest[key]!.file;
      if (file.endsWith('.js')) total += gzipSize(file);
    }
    return total;
  };
  /** Components a page imports lazily (defineAsyncComponent), not other pages (the router's imports). */
  const lazyParts = (keys: Set<string>): Set<string> =>
    closure(
      manifest,
      [...keys].flatMap((key) =>
        (manifest[key]!.dynamicImports ?? []).filter((to) => !VIEW.test(to) && to !== SHELL),
      ),
    );
  const without = (keys: Set<string>, loaded: Set<string>): string[] =>
    [...keys].filter((key) => !loaded.has(key));

  const first = closure(manifest, [entry, LOGIN, SHELL, DASHBOARD]);
  const afterShown = without(lazyParts(first), first);
  const loaded = new Set([...first, ...afterShown]);
  const sizes: RouteSize[] = [
    { route: 'first route (login, dashboard)', bytes: bytes(first), budget: FIRST_ROUTE_BUDGET },
    { route: 'dashboard, once shown (charts)', bytes: bytes(afterShown), budget: LATER_ROUTE_BUDGET },
  ];
  const views = Object.keys(manifest)
    .filter((key) => VIEW.test(key) && key !== LOGIN && key !== DASHBOARD)
    .sort();
  for (const view of views) {
    const own = closure(manifest, [view, SHELL]);
    const added = without(new Set([...own, ...lazyParts(own)]), loaded);
    sizes.push({ route: view, bytes: bytes(added), budget: LATER_ROUTE_BUDGET });
  }
  return sizes;
}

/** A table of the sizes against their budgets, one route a line. */
export function formatRouteSizes(sizes: RouteSize[]): string {
  const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
  return sizes
    .map(({ route, bytes, budget }) => {
      const mark = bytes > budget ? '  OVER BUDGET' : '';
      return `  ${route.padEnd(36)} ${kb(bytes).padStart(10)} gzipped (budget ${kb(budget)})${mark}`;
    })
    .join('\n');
}
