import { cocoAnnotations, cocoCategories, cocoImage, conllItem, tokenize } from './exports';

describe('export formats', () => {
  it('tokenize: words and symbols with offsets, cut at span boundaries', () => {
    expect(tokenize('Hi, Zoë!')).toEqual([
      { token: 'Hi', start: 0, end: 2 },
      { token: ',', start: 2, end: 3 },
      { token: 'Zoë', start: 4, end: 7 },
      { token: '!', start: 7, end: 8 },
    ]);
    expect(tokenize('abcdef', [2, 4]).map((t) => t.token)).toEqual(['ab', 'cd', 'ef']);
  });

  it('conllItem: BIO tags, adjacent spans of one type stay apart, blank line after the item', () => {
    const text = 'Ann Bo met Cy';
    const out = conllItem('t1', text, { spans: [{ start: 0, end: 3, label: 'PER' }, { start: 4, end: 6, label: 'PER' }, { start: 11, end: 13, label: 'PER' }] });
    expect(out).toBe('# task_id = t1\nAnn\tB-PER\nBo\tB-PER\nmet\tO\nCy\tB-PER\n\n');
    expect(conllItem('t2', 'New York', { spans: [{ start: 0, end: 8, label: 'LOC' }] })).toBe('# task_id = t2\nNew\tB-LOC\nYork\tI-LOC\n\n');
    expect(conllItem('t3', 'a b', null)).toBe('# task_id = t3\na\tO\nb\tO\n\n');
  });

  it('COCO: categories 1..K, image from the payload, annotations with bbox and score; unknown classes left out', () => {
    const cats = cocoCategories(['car', 'person']);
    expect(cats.map((c) => c.id)).toEqual([1, 2]);
    expect(cocoImage(7, 'task', { imageUrl: 'https://x.test/a/b%20c.jpg?s=1', width: 10, height: 20 })).toEqual({
      id: 7,
      file_name: 'b c.jpg',
      coco_url: 'https://x.test/a/b%20c.jpg?s=1',
      width: 10,
      height: 20,
      tally_task_id: 'task',
    });
    let id = 0;
    const anns = cocoAnnotations(7, { boxes: [{ x: 1.234, y: 2, w: 3, h: 4, label: 'person' }, { x: 0, y: 0, w: 1, h: 1, label: 'tree' }] }, 0.8, false, new Map(cats.map((c) => [c.name, c.id])), () => ++id);
    expect(anns).toEqual([{ id: 1, image_id: 7, category_id: 2, bbox: [1.23, 2, 3, 4], area: 12, iscrowd: 0, score: 0.8, tally_low_confidence: false }]);
  });
});
