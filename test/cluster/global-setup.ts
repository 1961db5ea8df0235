// Placeholder until the harness lands: the real one starts (or reuses) the local control plane once per run.
export default async function globalSetup(): Promise<void> {}
