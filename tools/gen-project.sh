#!/usr/bin/env bash
# gen-project.sh <dir> <nx-name> <package-name> <type:lib|app> -- writes the standard per-project config files.
set -euo pipefail
dir=$1 name=$2 pkg=$3 kind=$4
depth=$(echo "$dir" | awk -F/ '{print NF}')
up=$(printf '../%.0s' $(seq 1 "$depth"))
mkdir -p "$dir/src"
[ -f "$dir/package.json" ] || cat > "$dir/package.json" <<J
{
  "name": "$pkg",
  "version": "0.1.0",
  "private": true,
  "main": "dist/index.js",
  "types": "dist/index.d.ts"
}
J
cat > "$dir/tsconfig.json" <<J
{
  "extends": "${up}tsconfig.base.json",
  "compilerOptions": { "types": ["node", "jest"], "noEmit": true },
  "include": ["src/**/*.ts", "test/**/*.ts", "bench/**/*.ts"]
}
J
cat > "$dir/tsconfig.lib.json" <<J
{
  "extends": "./tsconfig.json",
  "compilerOptions": { "noEmit": false, "outDir": "dist", "rootDir": "src", "types": ["node"], "paths": {} },
  "include": ["src/**/*.ts"],
  "exclude": ["src/**/*.spec.ts"]
}
J
cat > "$dir/jest.config.js" <<J
module.exports = {
  ...require('${up}jest.preset.js'),
  displayName: '$name',
  rootDir: __dirname,
};
J
cat > "$dir/project.json" <<J
{
  "name": "$name",
  "\$schema": "${up}node_modules/nx/schemas/project-schema.json",
  "sourceRoot": "$dir/src",
  "projectType": "$( [ "$kind" = app ] && echo application || echo library )",
  "targets": {
    "build": { "command": "tsc -p $dir/tsconfig.lib.json", "outputs": ["{projectRoot}/dist"] },
    "typecheck": { "command": "tsc -p $dir/tsconfig.json" },
    "lint": { "command": "eslint --max-warnings 0 $dir" },
    "test": { "command": "node tools/jest-project.mjs $dir" }
  }
}
J
