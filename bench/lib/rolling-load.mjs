/**
 * The request mix of the rolling-restart section, as a module: the load generator runs wherever
 * the model puts it (inside the kube-proxy model's network namespace, in another process) and
 * imports it there.
 */
export const rollingRequests = [
  { name: 'fast', path: '/', weight: 3 },
  { name: 'slow', path: () => `/slow?ms=${50 + Math.floor(Math.random() * 250)}`, weight: 1 },
];
