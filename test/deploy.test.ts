/**
 * The deployment files, checked without a container engine or a cluster (CI has neither, so nothing here builds
 * an image or applies a manifest): deploy/k8s's manifests are parsed and their environment contract compared with
 * the one the product reads (@gan/config's env-flags.ts, @gan/auth for the secret) and the one the multi-host test
 * starts its run with (test/env-contract.ts): the variable names per role, the token file from the Secret's mount,
 * the advertised pod IP, the worker count = parallelism = completions = GAN_WORKERS, the ports, the run folder's
 * volume; the manifests' environment is then parsed by the product's own parser. The Dockerfile's stages, user and
 * entrypoint are checked as text.
 * Run: node tools/run-tests.mjs test deploy
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { RunSecret } from '@gan/auth';
import { DISTRIBUTED_FLAGS, envVarsOf, fingerprint, parseArgs, type EnvRole } from '@gan/config';
import { COORDINATOR_ENV, WORKER_ENV } from './env-contract';
import { ROOT } from './helpers';

const K8S = path.join(ROOT, 'deploy/k8s');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-deploy-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A Kubernetes object as parsed YAML (untyped data, not an RPC edge): each field the tests read is asserted. */
type K8sObject = Record<string, any>;

/** Every document of a manifest, parsed as Kubernetes does (YAML 1.1: `0440` is octal), failing on any YAML error. */
function load(file: string): K8sObject[] {
  const docs = parseAllDocuments(fs.readFileSync(path.join(K8S, file), 'utf8'), { version: '1.1' });
  return docs.map((d) => {
    assert.deepEqual(d.errors, [], `${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as K8sObject;
  }).filter((o) => o !== null);
}

const kustomization = load('kustomization.yaml')[0];
const objects = (kustomization.resources as string[]).flatMap(load);

function one(kind: string, component?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (!component || o.spec?.template?.metadata?.labels?.['app.kubernetes.io/component'] === component));
  assert.equal(found.length, 1, `one ${kind}${component ? ` (${component})` : ''} expected, found ${found.length}`);
  return found[0];
}

const coordinatorJob = one('Job', 'coordinator');
const workersJob = one('Job', 'worker');
const service = one('Service');
const configMap = one('ConfigMap');
const claim = one('PersistentVolumeClaim');
const pods: Record<EnvRole, K8sObject> = { coordinator: coordinatorJob.spec.template.spec, worker: workersJob.spec.template.spec };

function container(role: EnvRole): K8sObject {
  assert.equal(pods[role].containers.length, 1, `${role}: one container`);
  return pods[role].containers[0];
}

/** A container's plain env values by name (valueFrom ones are undefined here). */
function envOf(role: EnvRole): Map<string, K8sObject> {
  return new Map((container(role).env as K8sObject[]).map((e) => [e.name, e]));
}

/** The volume a path inside the container lives on, and the path relative to its mount. */
function volumeAt(role: EnvRole, file: string): { volume: K8sObject; mount: K8sObject; rel: string } {
  const mounts = (container(role).volumeMounts as K8sObject[]).filter((m) => file === m.mountPath || file.startsWith(`${m.mountPath}/`));
  assert.equal(mounts.length, 1, `${role}: ${file} is on no mounted volume`);
  const volume = (pods[role].volumes as K8sObject[]).find((v) => v.name === mounts[0].name);
  assert.ok(volume, `${role}: no volume ${mounts[0].name}`);
  return { volume, mount: mounts[0], rel: path.posix.relative(mounts[0].mountPath, file) };
}

const value = (role: EnvRole, name: string): string => {
  const e = envOf(role).get(name);
  assert.ok(e && typeof e.value === 'string', `${role}: ${name} has no literal value`);
  return e.value;
};

test('the kustomization lists every manifest in deploy/k8s, and every object parses', () => {
  const files = fs.readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
  assert.deepEqual([...kustomization.resources].sort(), files);
  assert.deepEqual(objects.map((o) => o.kind).sort(), ['ConfigMap', 'Job', 'Job', 'PersistentVolumeClaim', 'Service']);
  for (const o of objects) assert.ok(o.apiVersion && o.metadata?.name, `${o.kind} lacks apiVersion or name`);
  for (const role of ['coordinator', 'worker'] as const) {
    assert.equal(container(role).image, kustomization.images[0].name, `${role}: the image the kustomization sets`);
    assert.deepEqual(container(role).args, [role], `${role}: the role alone on the command line`);
    assert.equal(container(role).command, undefined, `${role}: the image's entrypoint (gan-train) runs`);
  }
});

test('each role gets exactly the variables the multi-host test starts it with, all of them read by the product', () => {
  const manifest = (role: EnvRole) => [...envOf(role).keys()].sort();
  assert.deepEqual(manifest('coordinator'), [...COORDINATOR_ENV].sort());
  assert.deepEqual(manifest('worker'), [...WORKER_ENV].sort());
  for (const role of ['coordinator', 'worker'] as const) {
    const read = envVarsOf(role);
    for (const v of manifest(role)) assert.ok(read.includes(v), `${role} does not read ${v}, which its manifest sets`);
  }
  // The secret travels as a file only: GAN_TOKEN would put it in the pod spec.
  for (const role of ['coordinator', 'worker'] as const) assert.ok(!envOf(role).has('GAN_TOKEN'), `${role} sets GAN_TOKEN`);
});

test('the worker count: parallelism = completions = GAN_WORKERS of the workers and of the coordinator; Indexed', () => {
  const { spec } = workersJob;
  assert.equal(spec.completionMode, 'Indexed');
  const n = Number(value('coordinator', 'GAN_WORKERS'));
  assert.ok(Number.isInteger(n) && n >= 1);
  assert.equal(spec.parallelism, n);
  assert.equal(spec.completions, n);
  assert.equal(Number(value('worker', 'GAN_WORKERS')), n);
});

test('the run secret: GAN_TOKEN_FILE is the key of one Secret mounted read-only, and @gan/auth reads that variable', () => {
  const secrets = new Set<string>();
  for (const role of ['coordinator', 'worker'] as const) {
    const file = value(role, 'GAN_TOKEN_FILE');
    const { volume, mount, rel } = volumeAt(role, file);
    assert.ok(volume.secret, `${role}: ${file} is not on a Secret volume`);
    assert.equal(mount.readOnly, true);
    const item = (volume.secret.items as K8sObject[]).find((i) => i.path === rel);
    assert.ok(item, `${role}: the Secret's items do not put a key at ${rel}`);
    assert.ok((volume.secret.defaultMode & 0o007) === 0, `${role}: the token file is readable by others (mode ${volume.secret.defaultMode.toString(8)})`);
    // The pod's user reads it as owner or through fsGroup.
    assert.ok(volume.secret.defaultMode & 0o040 && pods[role].securityContext.fsGroup !== undefined, `${role}: the token is unreadable for the pod's group`);
    secrets.add(`${volume.secret.secretName}/${item.key}`);
  }
  assert.equal(secrets.size, 1, `both roles read the same secret: ${[...secrets].join(', ')}`);
  // The product side of the contract: @gan/auth takes the secret from GAN_TOKEN_FILE when no flag names one.
  const file = path.join(tmp, 'token');
  const text = RunSecret.generateText();
  fs.writeFileSync(file, `${text}\n`);
  const secret = RunSecret.resolve(undefined, { GAN_TOKEN_FILE: file });
  assert.ok(secret);
  assert.equal(secret.exportText(), text);
  assert.equal(RunSecret.resolve(undefined, {}), undefined);
});

test('addresses: workers advertise their pod IP and join the Service; ports match the containers\'', () => {
  const w = envOf('worker');
  assert.equal(w.get('GAN_ADVERTISE')?.valueFrom?.fieldRef?.fieldPath, 'status.podIP');
  assert.equal(w.get('GAN_WORKER_ID')?.valueFrom?.fieldRef?.fieldPath, "metadata.annotations['batch.kubernetes.io/job-completion-index']");
  const grpcPort = (service.spec.ports as K8sObject[]).find((p) => p.name === 'grpc');
  assert.ok(grpcPort);
  assert.equal(value('worker', 'GAN_COORDINATOR'), `${service.metadata.name}:${grpcPort.port}`);
  // The Service selects the coordinator's pods, and its ports lead to the coordinator's listeners.
  const labels = coordinatorJob.spec.template.metadata.labels;
  for (const [k, v] of Object.entries(service.spec.selector)) assert.equal(labels[k], v, `Service selector ${k}`);
  const ports = (role: EnvRole) => new Map((container(role).ports as K8sObject[]).map((p) => [p.name, p.containerPort]));
  const port = (hostPort: string) => Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
  for (const p of service.spec.ports as K8sObject[]) assert.ok(ports('coordinator').has(p.targetPort), `Service port ${p.name} leads nowhere`);
  assert.equal(ports('coordinator').get(grpcPort.targetPort), port(value('coordinator', 'GAN_LISTEN')));
  assert.equal(ports('coordinator').get('http'), port(value('coordinator', 'GAN_HTTP')));
  assert.match(value('coordinator', 'GAN_LISTEN'), /^0\.0\.0\.0:/, 'the coordinator listens on the pod\'s interfaces');
  assert.equal(ports('worker').get('collective'), Number(value('worker', 'GAN_PORT')));
  assert.equal(ports('worker').get('data'), Number(value('worker', 'GAN_DATA_PORT')));
});

test('the run folder: GAN_OUT on a ReadWriteMany claim every worker mounts writable (any may be rank 0)', () => {
  assert.ok((claim.spec.accessModes as string[]).includes('ReadWriteMany'));
  const out = value('worker', 'GAN_OUT');
  assert.equal(value('coordinator', 'GAN_OUT'), out);
  for (const role of ['coordinator', 'worker'] as const) {
    const { volume, mount } = volumeAt(role, out);
    assert.equal(volume.persistentVolumeClaim?.claimName, claim.metadata.name);
    assert.equal(Boolean(mount.readOnly), role === 'coordinator', `${role}: ${role === 'worker' ? 'writes' : 'only reads'} the run folder`);
  }
});

test('the product accepts each pod\'s environment as it is: one training config (GAN_CONFIG\'s file) for both roles', () => {
  const fingerprints = new Set<string>();
  for (const role of ['coordinator', 'worker'] as const) {
    const file = value(role, 'GAN_CONFIG');
    const { volume, rel } = volumeAt(role, file);
    assert.equal(volume.configMap?.name, configMap.metadata.name);
    const local = path.join(tmp, `${role}-${rel}`);
    fs.writeFileSync(local, configMap.data[rel]);
    // What the downward API fills in at run time, and the mounted files at their paths here.
    const vars: Record<string, string> = { GAN_ADVERTISE: '10.244.1.7', GAN_WORKER_ID: '2' };
    for (const [name, e] of envOf(role)) if (typeof e.value === 'string') vars[name] = e.value;
    vars.GAN_CONFIG = local;
    const parsed = parseArgs([], { extra: DISTRIBUTED_FLAGS[role], env: { role, vars } });
    assert.deepEqual(Object.values(parsed.fromEnv).sort(), [...envOf(role).keys()].filter((v) => v !== 'GAN_CONFIG' && v !== 'GAN_TOKEN_FILE').sort(),
      `${role}: every variable but the file's and the secret's sets a flag`);
    assert.equal(parsed.configFile, local);
    assert.equal(parsed.config.out, value(role, 'GAN_OUT'));
    fingerprints.add(fingerprint(parsed.config));
  }
  assert.equal(fingerprints.size, 1, 'the coordinator would refuse these workers: their training flags differ');
});

test('the pods run as the image\'s unprivileged user', () => {
  for (const role of ['coordinator', 'worker'] as const) {
    const sc = pods[role].securityContext;
    assert.equal(sc.runAsNonRoot, true);
    assert.equal(sc.runAsUser, 1000, 'node:20-slim\'s `node` user, the Dockerfile\'s USER');
    assert.equal(container(role).securityContext?.allowPrivilegeEscalation, false);
  }
});

test('the Dockerfile: node:20-slim build and runtime stages, npm ci and the package build, non-root, gan-train as entrypoint', () => {
  const text = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  // Instructions, with continuation lines joined and comments dropped.
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const from = lines.filter((l) => /^FROM /i.test(l));
  assert.equal(from.length, 2, 'a build stage and a runtime stage');
  assert.match(from[0], /^FROM node:20-slim AS build$/);
  assert.match(from[1], /^FROM node:20-slim$/);
  const build = lines.slice(lines.indexOf(from[0]), lines.indexOf(from[1]));
  const runtime = lines.slice(lines.indexOf(from[1]));
  assert.ok(build.some((l) => /^RUN npm ci\b/.test(l)), 'the build installs from the lockfile');
  assert.ok(build.some((l) => /^RUN .*node tools\/build-package\.mjs/.test(l)), 'the build runs the package build');
  assert.ok(build.some((l) => /npm prune --omit=dev/.test(l)), 'only production dependencies go on');
  assert.ok(!runtime.some((l) => /^RUN npm (ci|install)\b/.test(l)), 'the runtime installs nothing from a registry');
  assert.ok(!runtime.some((l) => /^COPY (?!--from=build)/.test(l)), 'the runtime takes only what the build stage made');
  for (const p of ['bin/', 'dist/apps/', 'protos/', 'node_modules/']) assert.ok(runtime.some((l) => l.startsWith(`COPY --from=build /src/${p}`)), `the runtime lacks ${p}`);
  assert.ok(!runtime.some((l) => /COPY --from=build \/src\/(apps|libs)\//.test(l)), 'no TypeScript sources: bin/gan-train.mjs runs the bundles');
  const users = runtime.filter((l) => /^USER /.test(l));
  assert.deepEqual(users, ['USER node'], 'one USER, the unprivileged node user');
  assert.ok(runtime.indexOf(users[0]) < runtime.findIndex((l) => /^ENTRYPOINT /.test(l)));
  const entrypoint = runtime.filter((l) => /^ENTRYPOINT /.test(l));
  assert.equal(entrypoint.length, 1);
  assert.deepEqual(JSON.parse(entrypoint[0].slice('ENTRYPOINT '.length)), ['gan-train'], 'exec form, the CLI itself');
  assert.ok(runtime.some((l) => /ln -s \/app\/bin\/gan-train\.mjs \/usr\/local\/bin\/gan-train/.test(l)), 'gan-train is the repository\'s bin/gan-train.mjs');
  // bin/gan-train.mjs picks the bundle when the app's source is absent: the runtime's layout has to be the package's.
  assert.match(fs.readFileSync(path.join(ROOT, 'bin/gan-train.mjs'), 'utf8'), /\.\.\/dist\/apps\/\$\{app\}\/main\.mjs/);

  const ignore = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
  for (const p of ['**/node_modules', '.git', 'dist', '**/*.token']) assert.ok(ignore.includes(p), `.dockerignore lacks ${p}`);
});

test('the README documents every variable of the contract in its Deploy section', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Deploy (Docker, Kubernetes)');
  assert.ok(start >= 0, 'no Deploy section');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  for (const v of new Set([...envVarsOf('coordinator'), ...envVarsOf('worker')])) assert.ok(section.includes(`\`${v}\``), `README's Deploy section does not name ${v}`);
});
