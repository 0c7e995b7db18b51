// One-off scaffolder kept for adding projects: node tools/scaffold.mjs <dir> <name> <tags,comma>
import fs from 'node:fs';
import path from 'node:path';
const [dir, name, tags] = process.argv.slice(2);
const pkg = { name, version: '0.1.0', private: true, type: 'module', exports: { '.': './src/index.ts' }, main: './src/index.ts' };
fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
const project = {
  name,
  $schema: '../../node_modules/nx/schemas/project-schema.json',
  sourceRoot: `${dir}/src`,
  projectType: dir.startsWith('apps') ? 'application' : 'library',
  tags: tags.split(','),
  targets: {
    build: { executor: 'nx:run-commands', options: { command: `node tools/build.mjs ${dir}`, cwd: '{workspaceRoot}' }, outputs: [`{workspaceRoot}/dist/${dir}`] },
    typecheck: { executor: 'nx:run-commands', options: { command: `tsc -p ${dir}/tsconfig.json`, cwd: '{workspaceRoot}' } },
    lint: { executor: 'nx:run-commands', options: { command: `eslint ${dir}`, cwd: '{workspaceRoot}' } },
    test: { executor: 'nx:run-commands', options: { command: `node tools/run-tests.mjs ${dir}`, cwd: '{workspaceRoot}' } },
  },
};
fs.writeFileSync(path.join(dir, 'project.json'), JSON.stringify(project, null, 2) + '\n');
fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.base.json', include: ['src/**/*.ts'] }, null, 2) + '\n');
if (!fs.existsSync(path.join(dir, 'src/index.ts'))) fs.writeFileSync(path.join(dir, 'src/index.ts'), `// Public API of ${name}.\nexport {};\n`);
