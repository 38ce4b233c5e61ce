/**
 * `<ap-import-panel>`: brings a collection's metadata and expert regions in. Choose a catalog (CSV, JSON or
 * parquet) or an expert-region file (W3C Web Annotation, COCO, LabelMe or VIA): the panel first shows what it
 * would match — which paintings get a catalog row or how many regions, which rows or sources match nothing,
 * regions already imported — and imports only when asked. Imported regions are locked (an expert's region is
 * not moved by accident). `ap-imported` {kind: 'catalog' | 'regions'} fires after an import (the host reloads
 * the paintings).
 *
 * @example
 * <ap-import-panel .api=${api} @ap-imported=${() => refresh()}></ap-import-panel>
 */
import { css, html, LitElement, nothing } from 'lit';
import type { Api, CatalogPreview, RegionsImportResult } from './api.ts';

export class ApImportPanel extends LitElement {
  static override properties = {
    api: { attribute: false },
    catalog: { state: true },
    regions: { state: true },
    message: { state: true },
    busy: { state: true },
  };
  declare api: Api | undefined;
  /** The chosen catalog file and its preview. */
  declare catalog: { file: File; preview: CatalogPreview } | undefined;
  declare regions: { file: File; preview: RegionsImportResult } | undefined;
  declare message: string;
  declare busy: boolean;

  static override styles = css`
    :host { display: block; font-size: 14px; }
    .cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(250px, 1fr)); gap: 8px 14px; }
    fieldset { border: 1px solid #ccc; border-radius: 4px; padding: 6px 10px; margin: 0; }
    legend { font-weight: 600; font-size: 13px; }
    input, button { font: inherit; }
    button { border: 1px solid #0b5cad; background: #0b5cad; color: #fff; border-radius: 4px; padding: 2px 10px; cursor: pointer; }
    button.plain { background: #fff; color: #0b5cad; }
    button:focus-visible, input:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
    .preview { margin-top: 6px; font-size: 13px; }
    .preview ul { margin: 4px 0; padding-left: 18px; max-height: 7.5em; overflow: auto; }
    .ok { color: #1b5e20; }
    .warn { color: #8a4b00; }
    .msg { min-height: 1.2em; color: #1b5e20; margin-top: 6px; }
    .msg.error { color: #a00000; }
    p.help { margin: 2px 0 6px; color: #555; font-size: 12px; }
  `;

  constructor() {
    super();
    this.message = '';
    this.busy = false;
  }

  private async previewCatalog(file: File): Promise<void> {
    if (!this.api) return;
    this.message = '';
    try {
      this.catalog = { file, preview: await this.api.previewCatalog(file) };
    } catch (e) {
      this.catalog = undefined;
      this.message = `Catalog ${file.name}: ${(e as Error).message}`;
    }
  }

  private async previewRegions(file: File): Promise<void> {
    if (!this.api) return;
    this.message = '';
    try {
      this.regions = { file, preview: await this.api.importRegions(file, { dryRun: true }) };
    } catch (e) {
      this.regions = undefined;
      this.message = `Regions ${file.name}: ${(e as Error).message}`;
    }
  }

  private async run(kind: 'catalog' | 'regions'): Promise<void> {
    if (!this.api || this.busy) return;
    this.busy = true;
    try {
      if (kind === 'catalog' && this.catalog) {
        const r = await this.api.importCatalog(this.catalog.file);
        this.message = `Imported ${this.catalog.file.name}: ${r.matched} of ${r.rows} rows describe a painting.`;
        this.catalog = undefined;
      } else if (kind === 'regions' && this.regions) {
        const r = await this.api.importRegions(this.regions.file);
        this.message = `Imported ${r.imported} expert region(s) on ${r.matched.length} painting(s) from ${r.file} (locked).`;
        this.regions = undefined;
      }
      this.dispatchEvent(new CustomEvent('ap-imported', { detail: { kind }, bubbles: true, composed: true }));
    } catch (e) {
      this.message = `Import failed: ${(e as Error).message}`;
    } finally {
      this.busy = false;
    }
  }

  private renderCatalog() {
    const c = this.catalog?.preview;
    if (!c) return nothing;
    return html`<div class="preview" data-kind="catalog" role="status">
      <div><b>${c.file}</b> (${c.format}, ${c.rows} rows, key column “${c.keyColumn ?? 'none'}”)</div>
      <div class=${c.matched.length ? 'ok' : 'warn'} data-matched=${c.matched.length}>${c.matched.length} painting(s) get a catalog row</div>
      ${c.matched.length ? html`<ul>${c.matched.map((m) => html`<li>${m.name}${m.title ? html` → <i>${m.title}</i>` : nothing}</li>`)}</ul>` : nothing}
      ${c.unmatchedRows.length ? html`<div class="warn">${c.unmatchedRows.length} row(s) name no painting of the workspace: ${c.unmatchedRows.slice(0, 4).join(', ')}${c.unmatchedRows.length > 4 ? '…' : ''}</div>` : nothing}
      ${c.paintingsWithoutRow.length ? html`<div class="warn">${c.paintingsWithoutRow.length} painting(s) have no row: ${c.paintingsWithoutRow.slice(0, 4).join(', ')}${c.paintingsWithoutRow.length > 4 ? '…' : ''}</div>` : nothing}
      <button type="button" name="import-catalog" ?disabled=${this.busy || !c.matched.length} @click=${() => this.run('catalog')}>Import catalog</button>
      <button type="button" class="plain" @click=${() => (this.catalog = undefined)}>Cancel</button>
    </div>`;
  }

  private renderRegions() {
    const r = this.regions?.preview;
    if (!r) return nothing;
    const byDim = new Map<string, number>();
    for (const m of r.matched) for (const d of m.dimensions) byDim.set(d, (byDim.get(d) ?? 0) + 1);
    return html`<div class="preview" data-kind="regions" role="status">
      <div><b>${r.file}</b> (${r.format}, ${r.regions} regions)</div>
      <div class=${r.imported ? 'ok' : 'warn'} data-imported=${r.imported}>${r.imported} region(s) match ${r.matched.length} painting(s)${byDim.size ? ` · dimensions: ${[...byDim.keys()].join(', ')}` : ''}</div>
      ${r.matched.length ? html`<ul>${r.matched.map((m) => html`<li>${m.title ?? m.name}: ${m.regions}</li>`)}</ul>` : nothing}
      ${r.duplicates ? html`<div class="warn">${r.duplicates} region(s) were imported from this file before (skipped)</div>` : nothing}
      ${
        r.unmatched.length
          ? html`<div class="warn">${r.unmatched.reduce((a, u) => a + u.regions, 0)} region(s) name no painting: ${r.unmatched
              .slice(0, 4)
              .map((u) => u.source)
              .join(', ')}${r.unmatched.length > 4 ? '…' : ''}</div>`
          : nothing
      }
      ${r.warnings.length ? html`<details class="warn"><summary>${r.warnings.length} warning(s)</summary><ul>${r.warnings.map((w) => html`<li>${w}</li>`)}</ul></details>` : nothing}
      <button type="button" name="import-regions" ?disabled=${this.busy || !r.imported} @click=${() => this.run('regions')}>Import regions</button>
      <button type="button" class="plain" @click=${() => (this.regions = undefined)}>Cancel</button>
    </div>`;
  }

  override render() {
    const pick = (e: Event) => (e.target as HTMLInputElement).files?.[0];
    return html`<div class="cols">
        <fieldset><legend>Catalog</legend>
          <p class="help">CSV, JSON or parquet; rows name paintings by their file (columns file, filename, image or name).</p>
          <input type="file" name="catalog" accept=".csv,.json,.parquet,text/csv,application/json" aria-label="catalog file"
            @change=${(e: Event) => {
              const f = pick(e);
              if (f) void this.previewCatalog(f);
            }} />
          ${this.renderCatalog()}
        </fieldset>
        <fieldset><legend>Expert regions</legend>
          <p class="help">W3C Web Annotations, COCO, LabelMe or VIA JSON; matched to paintings by file name.</p>
          <input type="file" name="regions" accept=".json,.jsonld,application/json,application/ld+json" aria-label="expert regions file"
            @change=${(e: Event) => {
              const f = pick(e);
              if (f) void this.previewRegions(f);
            }} />
          ${this.renderRegions()}
        </fieldset>
      </div>
      <div class="msg ${/failed|:/.test(this.message) && !this.message.startsWith('Imported') ? 'error' : ''}" role="status">${this.message}</div>`;
  }
}

customElements.define('ap-import-panel', ApImportPanel);
