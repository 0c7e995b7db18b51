// Lint for every project. The module-boundary rule is the architecture: the model, data, checkpoint, config and
// training libs never import gRPC; the collective never imports TF.js or the model; apps depend on libs only.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const noGrpc = ['@grpc/*', '@gan/collective', '@gan/proto'];
export default [
  { ignores: ['**/node_modules/**', '**/dist/**', '.nx/**', '.gpu/**', 'libs/proto/src/generated/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mjs'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@nx/enforce-module-boundaries': ['error', {
        allow: [],
        enforceBuildableLibDependency: false,
        depConstraints: [
          { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
          { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib'] },
          { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
          { sourceTag: 'scope:model', onlyDependOnLibsWithTags: ['scope:model', 'scope:backend'], bannedExternalImports: noGrpc },
          { sourceTag: 'scope:backend', onlyDependOnLibsWithTags: ['scope:backend'], bannedExternalImports: noGrpc },
          { sourceTag: 'scope:data', onlyDependOnLibsWithTags: ['scope:data'], bannedExternalImports: [...noGrpc, '@tensorflow/*'] },
          { sourceTag: 'scope:checkpoint', onlyDependOnLibsWithTags: ['scope:checkpoint'], bannedExternalImports: [...noGrpc, '@tensorflow/*'] },
          { sourceTag: 'scope:config', onlyDependOnLibsWithTags: ['scope:config'], bannedExternalImports: [...noGrpc, '@tensorflow/*'] },
          { sourceTag: 'scope:telemetry', onlyDependOnLibsWithTags: ['scope:telemetry'], bannedExternalImports: [...noGrpc, '@tensorflow/*'] },
          { sourceTag: 'scope:proto', onlyDependOnLibsWithTags: ['scope:proto'], bannedExternalImports: ['@tensorflow/*'] },
          { sourceTag: 'scope:auth', onlyDependOnLibsWithTags: [], bannedExternalImports: ['@tensorflow/*'] },
          { sourceTag: 'scope:collective', onlyDependOnLibsWithTags: ['scope:proto', 'scope:telemetry', 'scope:auth'], bannedExternalImports: ['@tensorflow/*'] },
          { sourceTag: 'scope:metrics', onlyDependOnLibsWithTags: ['scope:metrics', 'scope:data', 'scope:checkpoint', 'scope:backend'], bannedExternalImports: ['@grpc/*', '@gan/collective', '@gan/proto'] },
          { sourceTag: 'scope:training', onlyDependOnLibsWithTags: ['scope:model', 'scope:backend', 'scope:data', 'scope:checkpoint', 'scope:config', 'scope:telemetry', 'scope:metrics'], bannedExternalImports: noGrpc },
        ],
      }],
    },
  },
];
