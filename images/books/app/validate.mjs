// Checks of what clients send: a 400 names the field and what is expected.
export class BadInput extends Error {}

const FIELDS = ['title', 'author', 'published_date', 'description'];
const MAX = 10_000;

/**
 * A book from a request body. `whole`: a new book (title and author required); else an update (any
 * of the fields). Unknown fields are refused, so a typo does not pass silently.
 */
export function checkBook(body, whole) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadInput(`the body must be a JSON object with ${FIELDS.join(', ')}`);
  const unknown = Object.keys(body).filter((k) => !FIELDS.includes(k) && k !== 'id');
  if (unknown.length > 0) throw new BadInput(`unknown field(s) ${unknown.join(', ')}: a book has ${FIELDS.join(', ')}`);
  const book = {};
  for (const f of FIELDS) {
    if (body[f] === undefined) continue;
    if (typeof body[f] !== 'string') throw new BadInput(`${f} must be a string, not ${JSON.stringify(body[f])}`);
    if (body[f].length > MAX) throw new BadInput(`${f} is over ${MAX} characters`);
    book[f] = body[f];
  }
  for (const f of ['title', 'author']) {
    if ((whole && book[f] === undefined) || (book[f] !== undefined && book[f].trim() === '')) throw new BadInput(`${f} is required and must not be empty`);
  }
  if (book.published_date && !/^\d{4}(-\d{2}(-\d{2})?)?$/.test(book.published_date)) {
    throw new BadInput(`published_date ${JSON.stringify(book.published_date)} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD`);
  }
  return book;
}

/** A book id from the path: a positive integer. */
export function parseId(text) {
  if (!/^[1-9]\d{0,17}$/.test(text)) throw new BadInput(`book id ${JSON.stringify(text)} is not a number: use the id POST /books returned`);
  return text;
}
