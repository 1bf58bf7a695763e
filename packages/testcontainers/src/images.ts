import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GenericContainer, getContainerRuntimeClient, ImageName } from 'testcontainers';
import { DOCKERFILE_TARGETS, type OtpStackOptions, type OwnService } from './stack-options.ts';

/** This repository's root when the package runs from it: src → package → packages → root. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Where the images are built from: the options' context, else this repository when the package
 * runs from a checkout of it. Installed in an application, the package has no sources to build:
 * the stack then needs a checkout (`build.context`) or the images' tags (`images`).
 */
function buildContext(options: OtpStackOptions): string {
  if (options.build?.context !== undefined) return options.build.context;
  const dockerfile = options.build?.dockerfile ?? 'Dockerfile';
  if (existsSync(join(REPOSITORY_ROOT, dockerfile)) && existsSync(join(REPOSITORY_ROOT, 'pnpm-workspace.yaml'))) {
    return REPOSITORY_ROOT;
  }
  throw new Error(
    '@otp/testcontainers: no image to run. Give the tags of the OTP system images (`images`), or a checkout of its ' +
      'repository to build them from (`build: { context }`)',
  );
}

// Never part of an image (see .dockerignore) and large or ever-changing: left out of the hash.
const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git', 'dist', 'coverage', '.outbox']);

/**
 * A hash of every file of the build context. It may cover more than Docker's context (files the
 * .dockerignore drops): a change there costs a build made of cached layers, never a stale image.
 */
async function contextHash(context: string, dockerfile: string): Promise<string> {
  const hash = createHash('sha256').update(dockerfile).update('\0');
  async function walk(directory: string): Promise<void> {
    const entries = await readdir(directory, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name)) await walk(path);
      } else if (entry.isFile() && !entry.name.endsWith('.tsbuildinfo')) {
        hash
          .update(relative(context, path))
          .update('\0')
          .update(await readFile(path))
          .update('\0');
      }
    }
  }
  await walk(context);
  return hash.digest('hex').slice(0, 16);
}

async function imageExists(name: string): Promise<boolean> {
  const client = await getContainerRuntimeClient();
  return client.image.exists(ImageName.fromString(name));
}

// Builds under way in this process, so stacks started together build each image once.
const building = new Map<string, Promise<void>>();

async function buildOnce(name: string, context: string, dockerfile: string, target: string): Promise<void> {
  let build = building.get(name);
  if (build === undefined) {
    build = (async () => {
      if (await imageExists(name)) return;
      try {
        // Kept after the run (not deleted on exit): the next start finds it by its tag.
        await GenericContainer.fromDockerfile(context, dockerfile)
          .withTarget(target)
          .build(name, { deleteOnExit: false });
      } catch (error) {
        throw new Error(
          `building the "${target}" image failed; \`docker build --target ${target} -f ${dockerfile} ${context}\` shows why`,
          { cause: error },
        );
      }
    })();
    building.set(name, build);
    build.catch(() => building.delete(name));
  }
  return build;
}

/**
 * The image of each own service: the tag given in the options, or one built from the Dockerfile.
 * A built image is tagged with the hash of its build context, so a second start with unchanged
 * sources finds it and builds nothing. The migrate target is built first: the other targets then
 * take its dependency layers from the cache instead of installing them again in parallel.
 */
export async function resolveOwnImages(options: OtpStackOptions): Promise<Record<OwnService, Promise<string>>> {
  const dockerfile = options.build?.dockerfile ?? 'Dockerfile';
  const repository = options.build?.imageRepository ?? 'otp-testcontainers';
  // The dashboard is built only for a stack that runs it.
  const wanted = (Object.keys(DOCKERFILE_TARGETS) as OwnService[]).filter(
    (service) => service !== 'dashboard' || options.dashboard === true,
  );
  const needsBuild = wanted.some((service) => options.images?.[service] === undefined);
  const context = needsBuild ? buildContext(options) : '';
  const tag = needsBuild ? await contextHash(context, dockerfile) : '';

  const image = (service: OwnService, after?: Promise<unknown>): Promise<string> => {
    const given = options.images?.[service];
    if (given !== undefined) return Promise.resolve(given);
    const target = DOCKERFILE_TARGETS[service];
    const name = `${repository}/${target}:${tag}`;
    return (async () => {
      await after?.catch(() => undefined);
      await buildOnce(name, context, dockerfile, target);
      return name;
    })();
  };
  const migrate = image('migrate');
  const images = {
    migrate,
    gateway: image('gateway', migrate),
    emailWorker: image('emailWorker', migrate),
    smsWorker: image('smsWorker', migrate),
    webhookWorker: image('webhookWorker', migrate),
    smsInbox: image('smsInbox', migrate),
    dashboard: options.dashboard === true ? image('dashboard', migrate) : Promise.resolve(''),
  };
  // A build may fail before its service is due to start; the start reports it then.
  for (const pending of Object.values(images)) pending.catch(() => undefined);
  return images;
}
