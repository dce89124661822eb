// Descriptor sets (from `buf build`) -> a protobuf-es registry and a method index.
// No generated code: every message is handled by reflection over these descriptors.
import { createFileRegistry, fromBinary, type DescMessage, type DescMethod, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import type { MethodRef } from "../core/index.ts";

export type MethodKind = "unary" | "server_streaming" | "client_streaming" | "bidi_streaming";

export interface MethodInfo {
  readonly desc: DescMethod;
  readonly ref: MethodRef;
  readonly kind: MethodKind;
  readonly input: DescMessage;
  readonly output: DescMessage;
}

/** Merges descriptor sets (later files with the same name are skipped) into one registry. */
export function registryFromDescriptorSets(sets: readonly Uint8Array[]): FileRegistry {
  const seen = new Set<string>();
  const files: FileDescriptorProto[] = [];
  for (const bytes of sets) {
    const set = fromBinary(FileDescriptorSetSchema, bytes);
    for (const f of set.file) {
      if (seen.has(f.name)) continue;
      seen.add(f.name);
      files.push(f);
    }
  }
  const merged = fromBinary(FileDescriptorSetSchema, new Uint8Array(0));
  merged.file = files;
  return createFileRegistry(merged);
}

export function methodInfo(desc: DescMethod): MethodInfo {
  const service = desc.parent.typeName;
  return {
    desc,
    ref: { service, method: desc.name, path: `/${service}/${desc.name}` },
    kind: desc.methodKind,
    input: desc.input,
    output: desc.output,
  };
}

/** "/pkg.Service/Method" -> MethodInfo for every service in the registry. */
export function indexMethods(registry: FileRegistry): Map<string, MethodInfo> {
  const out = new Map<string, MethodInfo>();
  for (const file of registry.files) {
    for (const svc of file.services) {
      for (const m of svc.methods) {
        const info = methodInfo(m);
        out.set(info.ref.path, info);
      }
    }
  }
  return out;
}
