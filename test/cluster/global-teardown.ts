// The control plane outlives a jest run (make cluster-down stops it); nothing to tear down here.
export default async function globalTeardown(): Promise<void> {}
