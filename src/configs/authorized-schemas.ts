/**
 * Config schemas as one caller may see and change them, as AuthorizedConfigs is for configs:
 * anyone who may read may read schemas; writing one asks `write-schema` at its prefix (an admin,
 * or a writer whose prefixes cover it), and at the stored schema's prefix when it replaces or
 * deletes one, so a writer cannot take over a schema that governs more than it may write.
 */
import { actorOf, authorize, covers } from './access.ts'
import type { Caller } from './authorized-configs.ts'
import type { Precondition, WriteMeta } from './config-store.ts'
import type {
  SchemaDefinition,
  SchemaPutResult,
  SchemaStore,
  SchemaWriteOptions,
  StoredSchema,
  ViolatorReport,
} from './schema-model.ts'

export class AuthorizedSchemas {
  constructor(private readonly schemas: SchemaStore) {}

  list(caller: Caller): Promise<StoredSchema[]> {
    authorize(caller.principal, 'read-schemas')
    return this.schemas.list()
  }

  get(caller: Caller, name: string): Promise<StoredSchema | undefined> {
    authorize(caller.principal, 'read-schemas')
    return this.schemas.get(name)
  }

  /** Only the violators the caller may read: the others are neither named nor counted. */
  async violators(caller: Caller, name: string): Promise<ViolatorReport> {
    authorize(caller.principal, 'read-schemas')
    const report = await this.schemas.violators(name)
    const principal = caller.principal
    if (principal?.prefixes === undefined) return report
    const items = report.items.filter((v) => covers(principal, v.dcname))
    return { items, total: items.length }
  }

  async put(
    caller: Caller,
    definition: SchemaDefinition,
    precondition: Precondition,
    options: SchemaWriteOptions,
  ): Promise<SchemaPutResult> {
    authorize(caller.principal, 'write-schema', definition.prefix)
    await this.authorizeStored(caller, definition.name)
    return this.schemas.put(definition, precondition, this.writeMeta(caller), options)
  }

  async delete(caller: Caller, name: string, precondition: Precondition): Promise<number> {
    await this.authorizeStored(caller, name)
    return this.schemas.delete(name, precondition, this.writeMeta(caller))
  }

  private async authorizeStored(caller: Caller, name: string): Promise<void> {
    authorize(caller.principal, 'write-schema')
    const current = await this.schemas.get(name)
    if (current) authorize(caller.principal, 'write-schema', current.definition.prefix)
  }

  private writeMeta(caller: Caller): WriteMeta {
    return { actor: actorOf(caller.principal), requestId: caller.requestId, dryRun: caller.dryRun }
  }
}
