import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Kibana saved objects (monitoring/kibana/saved-objects.ndjson), checked without Kibana: the NDJSON
 * parses, every reference resolves inside the file, and every field a data view, search or
 * visualization uses is mapped by the index template that monitoring/elasticsearch/setup.sh installs.
 */
const ROOT = resolve(__dirname, '../..');

interface Reference {
  id: string;
  name: string;
  type: string;
}
interface SavedObject {
  id: string;
  type: string;
  attributes: Record<string, unknown>;
  references: Reference[];
  coreMigrationVersion?: string;
  typeMigrationVersion?: string;
}
interface LensColumn {
  operationType: string;
  sourceField?: string;
  params?: { orderBy?: { type: string; columnId?: string } };
}
interface LensAttributes {
  visualizationType: string;
  state: {
    datasourceStates: {
      formBased: { layers: Record<string, { columns: Record<string, LensColumn>; columnOrder: string[] }> };
    };
    visualization: Record<string, unknown>;
    query: { query: string; language: string };
  };
}
interface MappingNode {
  type?: string;
  properties?: Record<string, MappingNode>;
}

const lines = readFileSync(join(ROOT, 'monitoring/kibana/saved-objects.ndjson'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '');
const objects = lines.map((line) => JSON.parse(line) as SavedObject);
const byType = (type: string): SavedObject[] => objects.filter((object) => object.type === type);

const template = JSON.parse(
  readFileSync(join(ROOT, 'monitoring/elasticsearch/index-template.json'), 'utf8'),
) as {
  index_patterns: string[];
  template: { mappings: { properties: Record<string, MappingNode> } };
};

/** Mapped leaf fields, flattened to dotted names with their type. */
function flatten(properties: Record<string, MappingNode>, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, node] of Object.entries(properties)) {
    const path = `${prefix}${name}`;
    if (node.properties)
      for (const [child, type] of flatten(node.properties, `${path}.`)) out.set(child, type);
    else out.set(path, node.type ?? 'object');
  }
  return out;
}
const mapped = flatten(template.template.mappings.properties);

/** Field names in a KQL query: `a.b : "x" and c >= 1` -> [a.b, c]. */
function kqlFields(query: string): string[] {
  return [...query.matchAll(/([@\w.]+)\s*(?::|>=|<=|>|<)/g)].map((match) => match[1]!);
}

function searchSource(object: SavedObject): { query: { query: string }; indexRefName?: string } {
  const meta = object.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string };
  return JSON.parse(meta.searchSourceJSON) as { query: { query: string }; indexRefName?: string };
}

describe('Kibana saved objects', () => {
  it('is NDJSON in the current export format: id, type, attributes, references, migration versions', () => {
    expect(objects.length).toBeGreaterThan(0);
    const keys = new Set<string>();
    for (const object of objects) {
      expect(typeof object.id).toBe('string');
      expect(Array.isArray(object.references)).toBe(true);
      expect(object.coreMigrationVersion).toMatch(/^\d+\.\d+\.\d+$/);
      expect(object.typeMigrationVersion).toMatch(/^\d+\.\d+\.\d+$/);
      const key = `${object.type}:${object.id}`;
      expect(keys.has(key)).toBe(false);
      keys.add(key);
    }
  });

  it('has the data view, the four saved searches and the dashboard the docs promise', () => {
    const [dataView] = byType('index-pattern');
    expect(dataView?.attributes).toMatchObject({ title: 'logs-vigil-*', timeFieldName: '@timestamp' });
    expect(template.index_patterns).toContain(dataView?.attributes.title);
    const queries = byType('search').map((search) => searchSource(search).query.query);
    expect(queries).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/log\.level : "error"/),
        expect.stringMatching(/event\.duration >= \d+/),
        expect.stringMatching(/^trace\.id : "[0-9a-f]{32}"$/),
        expect.stringMatching(/model\.name : ".+" and model\.version : ".+"/),
      ]),
    );
    const [dashboard] = byType('dashboard');
    const fieldsUsed = byType('lens').map((lens) =>
      Object.values((lens.attributes as unknown as LensAttributes).state.datasourceStates.formBased.layers)
        .flatMap((layer) => Object.values(layer.columns).map((column) => column.sourceField))
        .join(','),
    );
    expect(fieldsUsed).toEqual(
      expect.arrayContaining([
        expect.stringContaining('log.level'),
        expect.stringContaining('event.duration'),
        expect.stringMatching(/model\.name.*model\.version.*prediction\.label/),
        expect.stringContaining('error.code'),
      ]),
    );
    expect(dashboard?.references.length).toBe(5);
  });

  it('resolves every reference to an object in the file', () => {
    const present = new Set(objects.map((object) => `${object.type}:${object.id}`));
    for (const object of objects) {
      for (const reference of object.references) {
        expect({
          from: object.id,
          to: `${reference.type}:${reference.id}`,
          found: present.has(`${reference.type}:${reference.id}`),
        }).toEqual({
          from: object.id,
          to: `${reference.type}:${reference.id}`,
          found: true,
        });
      }
    }
  });

  it('names a reference for every indexRefName, lens layer and dashboard panel', () => {
    for (const object of objects) {
      const names = new Set(object.references.map((reference) => reference.name));
      if (object.type === 'search' || object.type === 'visualization') {
        expect(names.has(searchSource(object).indexRefName ?? '')).toBe(true);
      }
      if (object.type === 'lens') {
        const layers = (object.attributes as unknown as LensAttributes).state.datasourceStates.formBased
          .layers;
        for (const layerId of Object.keys(layers)) {
          expect(names.has(`indexpattern-datasource-layer-${layerId}`)).toBe(true);
        }
      }
      if (object.type === 'dashboard') {
        const panels = JSON.parse(object.attributes.panelsJSON as string) as {
          panelIndex: string;
          panelRefName: string;
          gridData: { i: string };
        }[];
        expect(panels.length).toBe(object.references.length);
        for (const panel of panels) {
          expect(panel.gridData.i).toBe(panel.panelIndex);
          expect(names.has(`${panel.panelIndex}:${panel.panelRefName}`)).toBe(true);
        }
      }
    }
  });

  it('keeps every lens state consistent: columns ordered, accessors and orderBy point at columns', () => {
    for (const lens of byType('lens')) {
      const state = (lens.attributes as unknown as LensAttributes).state;
      for (const layer of Object.values(state.datasourceStates.formBased.layers)) {
        expect([...layer.columnOrder].sort()).toEqual(Object.keys(layer.columns).sort());
        for (const column of Object.values(layer.columns)) {
          const orderBy = column.params?.orderBy;
          if (orderBy?.type === 'column') expect(layer.columns).toHaveProperty([orderBy.columnId!]);
        }
        const visualization = JSON.stringify(state.visualization);
        const accessors = [
          ...visualization.matchAll(/"(?:xAccessor|splitAccessor|columnId)":"([^"]+)"/g),
        ].map((match) => match[1]!);
        const listed = [...visualization.matchAll(/"accessors":\[([^\]]*)\]/g)].flatMap((match) =>
          match[1]!.split(',').map((item) => item.replace(/"/g, '')),
        );
        for (const accessor of [...accessors, ...listed]) expect(layer.columns).toHaveProperty([accessor]);
      }
    }
  });

  it('uses only fields mapped in monitoring/elasticsearch/index-template.json', () => {
    const used: { object: string; field: string }[] = [];
    const add = (object: SavedObject, field: string | undefined): void => {
      if (field !== undefined && field !== '___records___') used.push({ object: object.id, field });
    };
    for (const object of objects) {
      const attributes = object.attributes;
      if (object.type === 'index-pattern') {
        add(object, attributes.timeFieldName as string);
        for (const field of Object.keys(JSON.parse(attributes.fieldFormatMap as string) as object))
          add(object, field);
      }
      if (object.type === 'search') {
        for (const column of attributes.columns as string[]) add(object, column);
        for (const [field] of attributes.sort as [string, string][]) add(object, field);
        for (const field of kqlFields(searchSource(object).query.query)) add(object, field);
      }
      if (object.type === 'lens') {
        const state = (attributes as unknown as LensAttributes).state;
        for (const field of kqlFields(state.query.query)) add(object, field);
        for (const layer of Object.values(state.datasourceStates.formBased.layers)) {
          for (const column of Object.values(layer.columns)) add(object, column.sourceField);
        }
      }
    }
    expect(used.length).toBeGreaterThan(20);
    expect(used.filter((item) => !mapped.has(item.field))).toEqual([]);
  });

  it('aggregates only on aggregatable fields (keyword, numbers, dates: not text)', () => {
    for (const lens of byType('lens')) {
      const layers = (lens.attributes as unknown as LensAttributes).state.datasourceStates.formBased.layers;
      for (const column of Object.values(layers).flatMap((layer) => Object.values(layer.columns))) {
        if (column.sourceField === undefined || column.sourceField === '___records___') continue;
        const type = mapped.get(column.sourceField);
        const allowed =
          column.operationType === 'terms'
            ? ['keyword', 'constant_keyword', 'long', 'integer']
            : column.operationType === 'date_histogram'
              ? ['date']
              : ['long', 'integer', 'float', 'double', 'scaled_float'];
        expect({ lens: lens.id, field: column.sourceField, type }).toEqual({
          lens: lens.id,
          field: column.sourceField,
          type: expect.stringMatching(new RegExp(`^(${allowed.join('|')})$`)),
        });
      }
    }
  });
});
