// A scrolling list that keeps only the visible rows (plus a margin) in the DOM, so 10,000
// providers cost about forty row elements. Rows have one fixed height, read from CSS.

export class VirtualList {
  /**
   * @param container the scrolling element (role=rowgroup)
   * @param renderRow (element, item, index) => void fills a pooled row element
   * @param createRow () => element makes an empty row
   */
  constructor(container, { createRow, renderRow, overscan = 8 }) {
    this.container = container;
    this.createRow = createRow;
    this.renderRow = renderRow;
    this.overscan = overscan;
    this.items = [];
    this.rows = new Map(); // index -> element
    this.pool = [];
    this.spacer = document.createElement("div");
    this.spacer.className = "vspacer";
    this.spacer.setAttribute("aria-hidden", "true");
    container.append(this.spacer);
    this.rowHeight = this.readRowHeight();
    this.scheduled = 0;
    this.onScroll = () => this.schedule();
    container.addEventListener("scroll", this.onScroll, { passive: true });
    this.resizeObserver = new ResizeObserver(() => {
      const height = this.readRowHeight();
      if (height !== this.rowHeight) { this.rowHeight = height; this.reposition(); }
      else this.schedule();
    });
    this.resizeObserver.observe(container);
  }

  readRowHeight() {
    const value = parseFloat(getComputedStyle(this.container).getPropertyValue("--row-h"));
    return Number.isFinite(value) && value > 0 ? value : 44;
  }

  setItems(items) {
    this.items = items;
    this.spacer.style.height = `${items.length * this.rowHeight}px`;
    this.refresh();
  }

  /** Re-render every visible row (data changed in place or order changed). Each row element
   * keeps its index, so a focused row keeps focus where it is through a refresh. */
  refresh() {
    this.spacer.style.height = `${this.items.length * this.rowHeight}px`;
    for (const [index, el] of this.rows) {
      if (index >= this.items.length) { this.rows.delete(index); this.release(el); }
      else this.renderRow(el, this.items[index], index);
    }
    this.paint();
  }

  /** Re-render the visible rows whose item id is in `ids`. */
  update(ids) {
    for (const [index, el] of this.rows) {
      const item = this.items[index];
      if (item && ids.has(item.id)) this.renderRow(el, item, index);
    }
  }

  /** The row height changed (a media query): every row moves. */
  reposition() {
    for (const [index, el] of this.rows) el.style.transform = `translateY(${index * this.rowHeight}px)`;
    this.refresh();
  }

  /** Back to the pool: hidden, and no longer naming the item it showed. */
  release(el) {
    el.hidden = true;
    el.removeAttribute("data-id");
    this.pool.push(el);
  }

  schedule() {
    if (!this.scheduled) this.scheduled = requestAnimationFrame(() => { this.scheduled = 0; this.paint(); });
  }

  paint() {
    const top = this.container.scrollTop;
    const height = this.container.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / this.rowHeight) - this.overscan);
    const last = Math.min(this.items.length - 1, Math.ceil((top + height) / this.rowHeight) + this.overscan);
    for (const [index, el] of this.rows) {
      if (index < first || index > last) { this.rows.delete(index); this.release(el); }
    }
    for (let index = first; index <= last; index++) {
      if (this.rows.has(index)) continue;
      let el = this.pool.pop();
      if (!el) { el = this.createRow(); this.container.append(el); }
      el.hidden = false;
      el.style.transform = `translateY(${index * this.rowHeight}px)`;
      el.setAttribute("aria-rowindex", String(index + 2)); // row 1 is the header
      this.renderRow(el, this.items[index], index);
      this.rows.set(index, el);
    }
  }

  /** Bring the row at `index` into view (keyboard navigation). */
  scrollToIndex(index) {
    const y = index * this.rowHeight;
    const { scrollTop, clientHeight } = this.container;
    if (y < scrollTop) this.container.scrollTop = y;
    else if (y + this.rowHeight > scrollTop + clientHeight) this.container.scrollTop = y + this.rowHeight - clientHeight;
    this.paint();
  }

  rowElement(index) { return this.rows.get(index) || null; }

  destroy() {
    this.container.removeEventListener("scroll", this.onScroll);
    this.resizeObserver.disconnect();
    if (this.scheduled) cancelAnimationFrame(this.scheduled);
  }
}
