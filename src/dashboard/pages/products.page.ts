/**
 * /data/products: the Amazon products participants saw or ordered (harvested from their points by
 * the asin-harvest job, enriched through Keepa by keepa-enrich), with their sources, points and
 * first/last seen. Search, filters, sort and pages are query parameters, so every view is a link
 * and the page needs no script.
 */
import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../dashboard-deps.ts';
import { formatAge, formatCount, formatDateTime } from '../format.ts';
import { html, type SafeHtml } from '../../html.ts';
import {
  countProducts, isKeepaState, isProductSort, listProducts, listTopBrands, productTotals,
  type KeepaState, type ProductRow, type ProductSort, type ProductTotals, type SortDirection,
} from '../products.repository.ts';
import { pageParam, queryParam, sendPage } from './page.ts';
import { pagination } from './pagination.ts';

const PER_PAGE = 100;
const CATEGORY_CHARS = 60;

type OrderedFilter = '' | 'ordered' | 'seen';

interface View {
  search: string;
  state: KeepaState | '';
  ordered: OrderedFilter;
  brand: string;
  category: string;
  sort: ProductSort;
  dir: SortDirection;
  page: number;
}

const COLUMNS: Array<{ sort?: ProductSort; label: string; numeric?: boolean; firstDir?: SortDirection }> = [
  { label: 'ASIN' },
  { sort: 'title', label: 'Title', firstDir: 'asc' },
  { label: 'Brand' },
  { label: 'Category' },
  { sort: 'sources', label: 'Sources', numeric: true, firstDir: 'desc' },
  { sort: 'points', label: 'Points', numeric: true, firstDir: 'desc' },
  { sort: 'first', label: 'First seen', firstDir: 'desc' },
  { sort: 'last', label: 'Last seen', firstDir: 'desc' },
];

const DEFAULT_VIEW: View = { search: '', state: '', ordered: '', brand: '', category: '', sort: 'sources', dir: 'desc', page: 1 };
const isDefaultSort = (view: View) => view.sort === DEFAULT_VIEW.sort && view.dir === DEFAULT_VIEW.dir;

/** The URL of a view; defaults are left out so links stay short. */
function viewUrl(view: View, change: Partial<View> = {}): string {
  const v = { ...view, ...change };
  const params = new URLSearchParams();
  if (v.search) params.set('q', v.search);
  if (v.state) params.set('state', v.state);
  if (v.ordered) params.set('ordered', v.ordered);
  if (v.brand) params.set('brand', v.brand);
  if (v.category) params.set('category', v.category);
  if (!isDefaultSort(v)) {
    params.set('sort', v.sort);
    params.set('dir', v.dir);
  }
  if (v.page > 1) params.set('page', String(v.page));
  const query = params.toString();
  return `/data/products${query ? `?${query}` : ''}`;
}

/** A header links to its sort; the current one flips direction and says which it is (aria-sort). */
function header(view: View, column: (typeof COLUMNS)[number]): SafeHtml {
  const numeric = column.numeric ? html` class="num"` : '';
  if (!column.sort) return html`<th${numeric}>${column.label}</th>`;
  const current = view.sort === column.sort;
  const dir = current ? (view.dir === 'asc' ? 'desc' : 'asc') : column.firstDir!;
  const ariaSort = current ? (view.dir === 'asc' ? 'ascending' : 'descending') : undefined;
  return html`<th${numeric}${ariaSort ? html` aria-sort="${ariaSort}"` : ''}><a href="${viewUrl(view, { sort: column.sort, dir, page: 1 })}">${column.label}</a></th>`;
}

/** A long category tree as its last levels ("… > Home Audio > Smart Speakers"); the whole on hover. */
export function shortCategory(tree: string): string {
  if (tree.length <= CATEGORY_CHARS) return tree;
  const levels = tree.split(' > ');
  let shown = levels.at(-1)!;
  for (let i = levels.length - 2; i >= 0 && shown.length + levels[i].length + 3 <= CATEGORY_CHARS; i--) shown = `${levels[i]} > ${shown}`;
  return shown.length > CATEGORY_CHARS ? `…${shown.slice(-CATEGORY_CHARS)}` : `… > ${shown}`;
}

/** What stands in for a title Keepa has not given (yet). */
export function missingTitle(product: Pick<ProductRow, 'keepaState' | 'keepaNextAttempt'>, now = new Date()): string {
  if (product.keepaState === 'pending') return 'not enriched yet';
  if (product.keepaState === 'missed') {
    const next = product.keepaNextAttempt;
    if (!next) return 'Keepa does not know it';
    return next > now ? `Keepa does not know it (retry ${formatAge(next, now)})` : 'Keepa does not know it (retry due)';
  }
  return 'no title';
}

export const orderedBadge = html`<span class="badge ordered">Ordered</span>`;

function row(product: ProductRow, timeZone: string): SafeHtml {
  const category = product.categoryTree ? html`<span title="${product.categoryTree}">${shortCategory(product.categoryTree)}</span>` : html`<span class="muted">–</span>`;
  return html`<tr data-asin="${product.asin}"><td class="mono nowrap"><a href="/data/products/${product.asin}">${product.asin}</a></td>
    <td class="product-title">${product.title ? product.title : html`<span class="muted">${missingTitle(product)}</span>`}${product.ordered ? html` ${orderedBadge}` : ''}</td>
    <td>${product.brand || html`<span class="muted">–</span>`}</td><td class="category small">${category}</td>
    <td class="num">${formatCount(product.sources)}</td><td class="num">${formatCount(product.points)}</td>
    <td class="nowrap">${formatDateTime(product.firstSeen, timeZone)}</td><td class="nowrap">${formatDateTime(product.lastSeen, timeZone)}</td></tr>`;
}

function select(name: string, label: string, value: string, options: Array<[string, string]>): SafeHtml {
  return html`<label for="products-${name}">${label}</label><select id="products-${name}" name="${name}">
    ${options.map(([v, text]) => html`<option value="${v}"${v === value ? html` selected` : ''}>${text}</option>`)}</select>`;
}

function toolbar(view: View, brands: Array<{ brand: string; products: number }>): SafeHtml {
  const filtered = view.search || view.state || view.ordered || view.brand || view.category;
  // A GET form: the view is in the URL (bookmarkable), and no CSRF token leaks into it.
  return html`<form method="get" action="/data/products" class="toolbar products-toolbar" role="search">
    <label for="products-search">Search</label>
    <input type="search" id="products-search" name="q" value="${view.search}" placeholder="ASIN, title or brand" size="28">
    ${select('state', 'Keepa', view.state, [['', 'all'], ['enriched', 'enriched'], ['pending', 'pending'], ['missed', 'missed']])}
    ${select('ordered', 'Ordered', view.ordered, [['', 'all'], ['ordered', 'ordered'], ['seen', 'only seen']])}
    <label for="products-brand">Brand</label>
    <input type="text" id="products-brand" name="brand" value="${view.brand}" list="products-brands" size="16" placeholder="any">
    <datalist id="products-brands">${brands.map((b) => html`<option value="${b.brand}">${formatCount(b.products)} products</option>`)}</datalist>
    <label for="products-category">Category</label>
    <input type="text" id="products-category" name="category" value="${view.category}" size="16" placeholder="part of the tree">
    ${isDefaultSort(view) ? '' : html`<input type="hidden" name="sort" value="${view.sort}"><input type="hidden" name="dir" value="${view.dir}">`}
    <button type="submit">Show</button>
    ${filtered ? html`<a href="${viewUrl({ ...DEFAULT_VIEW, sort: view.sort, dir: view.dir })}">Clear</a>` : ''}
  </form>`;
}

function summary(totals: ProductTotals, keepaConfigured: boolean): SafeHtml {
  // The totals are of every product, so their links open the unfiltered list with one filter.
  const link = (count: number, text: string, change: Partial<View>) =>
    count > 0 ? html`<a href="${viewUrl(DEFAULT_VIEW, change)}">${formatCount(count)} ${text}</a>` : html`${formatCount(count)} ${text}`;
  return html`<p class="products-summary"><strong>${formatCount(totals.products)} product${totals.products === 1 ? '' : 's'}</strong>:
    ${link(totals.enriched, 'enriched', { state: 'enriched' })}, ${link(totals.pending, 'pending', { state: 'pending' })},
    ${link(totals.missed, 'missed', { state: 'missed' })}; ${link(totals.ordered, 'ordered', { ordered: 'ordered' })}.
    <span class="muted small">Harvested from participants' points by the asin-harvest job (every 5 minutes).</span></p>
    ${!keepaConfigured && totals.pending > 0 ? html`<p class="notice">KEEPA_API_KEY is not set, so pending products are not enriched (no title, brand or prices).</p>` : ''}`;
}

const EMPTY = html`<p class="muted empty">No products yet. The asin-harvest job looks for Amazon products (ASINs) in the points participants send, every 5 minutes;
  the keepa-enrich job then asks Keepa for their title, brand, category and prices, which needs KEEPA_API_KEY.</p>`;

export function registerProductsPage(scope: FastifyInstance, deps: DashboardDeps): void {
  // Read-only, from what the harvest and Keepa jobs write: the read replica when there is one.
  const { readPool: pool, config } = deps;
  scope.get('/products', async (request, reply) => {
    const sortText = queryParam(request, 'sort');
    const sort: ProductSort = isProductSort(sortText) ? sortText : 'sources';
    const dirText = queryParam(request, 'dir');
    const stateText = queryParam(request, 'state');
    const orderedText = queryParam(request, 'ordered');
    const view: View = {
      search: queryParam(request, 'q').trim().slice(0, 200),
      state: isKeepaState(stateText) ? stateText : '',
      ordered: orderedText === 'ordered' || orderedText === 'seen' ? orderedText : '',
      brand: queryParam(request, 'brand').trim().slice(0, 200),
      category: queryParam(request, 'category').trim().slice(0, 200),
      sort,
      dir: dirText === 'asc' || dirText === 'desc' ? dirText : sort === 'title' ? 'asc' : 'desc',
      page: pageParam(request),
    };
    const filter = {
      search: view.search,
      state: view.state || undefined,
      ordered: view.ordered === '' ? undefined : view.ordered === 'ordered',
      brand: view.brand,
      category: view.category,
    };

    const [totals, total, brands] = await Promise.all([productTotals(pool), countProducts(pool, filter), listTopBrands(pool)]);
    const pages = Math.ceil(total / PER_PAGE);
    view.page = Math.min(view.page, Math.max(1, pages));
    const products = await listProducts(pool, { ...filter, sort: view.sort, dir: view.dir, limit: PER_PAGE, offset: (view.page - 1) * PER_PAGE });
    const filtered = filter.search || filter.state || filter.ordered !== undefined || filter.brand || filter.category;

    const table = products.length === 0
      ? (filtered ? html`<p class="muted empty">No product matches.</p>` : EMPTY)
      : html`${filtered ? html`<p class="muted small">${formatCount(total)} matching.</p>` : ''}
        <div class="table-scroll"><table class="data products"><thead><tr>${COLUMNS.map((c) => header(view, c))}</tr></thead>
        <tbody>${products.map((p) => row(p, config.timeZone))}</tbody></table></div>
        ${pagination(view.page, pages, (page) => viewUrl(view, { page }))}
        <p class="muted small">Times in ${config.timeZone}.</p>`;
    const body = html`<h1>Products</h1>${totals.products > 0 ? summary(totals, Boolean(config.keepaApiKey)) : ''}
      ${totals.products > 0 ? toolbar(view, brands) : ''}${table}`;
    return sendPage(request, reply, { title: 'Products', current: 'products', body });
  });
}
