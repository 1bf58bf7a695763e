// The package (an ioredis dependency, declared by the root) ships no types.
declare module 'cluster-key-slot' {
  /** The Redis Cluster hash slot of a key, its {hash tag} honoured, as Redis computes it. */
  export default function calculateSlot(key: string | Buffer): number;
}
