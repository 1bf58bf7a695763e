import { getContainerRuntimeClient, Network } from 'testcontainers';

export interface StackNetwork {
  name: string;
  close(): Promise<void>;
}

/**
 * A fresh network (removed by `close`, or by Ryuk if the process dies), or for a reusable stack
 * one with a fixed name that outlives the run, since reused containers are found by a hash of
 * their configuration, network included.
 */
export async function openNetwork(reuseKey: string | undefined): Promise<StackNetwork> {
  if (reuseKey === undefined) {
    const network = await new Network().start();
    return { name: network.getName(), close: async () => void (await network.stop()) };
  }
  const name = `otp-testcontainers-${reuseKey}`;
  const client = await getContainerRuntimeClient();
  const existing = await client.container.dockerode.listNetworks({ filters: { name: [name] } });
  const found = existing.find((network) => network.Name === name);
  const network = found
    ? client.network.getById(found.Id)
    : await client.network.create({ Name: name, Driver: 'bridge', CheckDuplicate: true });
  return {
    name,
    close: async () => {
      await client.network.remove(network);
    },
  };
}
