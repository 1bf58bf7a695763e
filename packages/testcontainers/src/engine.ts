import { getContainerRuntimeClient } from 'testcontainers';

/**
 * Whether a container engine answers, and if not why: for suites that skip themselves with a
 * printed reason on machines without one.
 */
export async function containerEngineStatus(): Promise<{ available: true } | { available: false; reason: string }> {
  try {
    await getContainerRuntimeClient();
    return { available: true };
  } catch (error) {
    return { available: false, reason: error instanceof Error ? error.message : String(error) };
  }
}
