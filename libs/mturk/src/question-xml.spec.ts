import { formatAmount, parseAmount } from './money';
import { MturkError } from './mturk.errors';
import { parseQuestion, shapeKey, toQuestionFormAnswers } from './question-xml';

const NS = 'xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd"';
const form = (answerSpec: string, content = '<Text>Which one?</Text>', overview = '') =>
  `<QuestionForm ${NS}>${overview}<Question><QuestionIdentifier>q1</QuestionIdentifier><QuestionContent>${content}</QuestionContent><AnswerSpecification>${answerSpec}</AnswerSpecification></Question></QuestionForm>`;
const selections = '<Selections><Selection><SelectionIdentifier>pos</SelectionIdentifier><Text>Positive</Text></Selection><Selection><SelectionIdentifier>neg</SelectionIdentifier><Text>Negative</Text></Selection></Selections>';

const turkCode = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MturkError);
    return (e as MturkError).turkErrorCode;
  }
  throw new Error('not refused');
};

describe('Question XML → Tally task', () => {
  it('maps a one-question selection form to single-label, with the texts and an image for the worker', () => {
    const q = parseQuestion(
      form(`<SelectionAnswer>${selections}</SelectionAnswer>`, '<Text>Rate the review</Text><Binary><MimeType><Type>image</Type><SubType>png</SubType></MimeType><DataURL>https://img.example/a.png</DataURL><AltText>a</AltText></Binary>', '<Overview><Title>Sentiment</Title><FormattedContent><![CDATA[<b>Be</b> careful]]></FormattedContent></Overview>'),
      'fallback',
    );
    expect(q).toMatchObject({ kind: 'QuestionForm', taskType: 'single-label', labels: ['pos', 'neg'], questionIdentifier: 'q1' });
    expect(q.payload).toMatchObject({ text: 'Sentiment\nBe careful\nRate the review', imageUrl: 'https://img.example/a.png' });
    expect(q.payload.mturk.selections).toEqual([{ id: 'pos', text: 'Positive' }, { id: 'neg', text: 'Negative' }]);
  });

  it('maps MaxSelectionCount > 1 or checkbox style to multi-label, free text to text with its max length', () => {
    expect(parseQuestion(form(`<SelectionAnswer><MaxSelectionCount>2</MaxSelectionCount>${selections}</SelectionAnswer>`), 'f').taskType).toBe('multi-label');
    expect(parseQuestion(form(`<SelectionAnswer><StyleSuggestion>checkbox</StyleSuggestion>${selections}</SelectionAnswer>`), 'f').taskType).toBe('multi-label');
    expect(parseQuestion(form('<FreeTextAnswer><Constraints><Length minLength="2" maxLength="80"/></Constraints></FreeTextAnswer>'), 'f')).toMatchObject({ taskType: 'text', maxTextLength: 80 });
    expect(parseQuestion(form('<FreeTextAnswer/>'), 'f')).toMatchObject({ taskType: 'text', maxTextLength: 2000 });
  });

  it('maps HTMLQuestion and ExternalQuestion to text tasks carrying the HTML or URL', () => {
    const html = parseQuestion('<HTMLQuestion><HTMLContent><![CDATA[<form><input name="a"></form>]]></HTMLContent><FrameHeight>300</FrameHeight></HTMLQuestion>', 'Title\nDescription');
    expect(html).toMatchObject({ kind: 'HTMLQuestion', taskType: 'text', payload: { text: 'Title\nDescription', mturk: { html: '<form><input name="a"></form>', frameHeight: 300 } } });
    const ext = parseQuestion('<ExternalQuestion><ExternalURL>https://x.example/t?a=1&amp;b=2</ExternalURL><FrameHeight>0</FrameHeight></ExternalQuestion>', 't');
    expect(ext.payload.mturk).toMatchObject({ kind: 'ExternalQuestion', externalUrl: 'https://x.example/t?a=1&b=2' });
  });

  it('refuses what has no Tally task type, and malformed XML, with MTurk error codes', () => {
    const two = `<QuestionForm ${NS}><Question><QuestionIdentifier>a</QuestionIdentifier><AnswerSpecification><FreeTextAnswer/></AnswerSpecification></Question><Question><QuestionIdentifier>b</QuestionIdentifier><AnswerSpecification><FreeTextAnswer/></AnswerSpecification></Question></QuestionForm>`;
    expect(turkCode(() => parseQuestion(two, 'f'))).toBe('AWS.MechanicalTurk.UnsupportedQuestion');
    expect(turkCode(() => parseQuestion(form('<FileUploadAnswer><MaxFileSizeInBytes>10</MaxFileSizeInBytes></FileUploadAnswer>'), 'f'))).toBe('AWS.MechanicalTurk.UnsupportedQuestion');
    expect(turkCode(() => parseQuestion('<QuestionForm><Question>', 'f'))).toBe('AWS.MechanicalTurk.XMLParseError');
    expect(turkCode(() => parseQuestion('<Other/>', 'f'))).toBe('AWS.MechanicalTurk.XMLParseError');
    expect(turkCode(() => parseQuestion('<ExternalQuestion><ExternalURL>javascript:alert(1)</ExternalURL></ExternalQuestion>', 'f'))).toBe('AWS.MechanicalTurk.XMLParseError');
    expect(turkCode(() => parseQuestion(form('<SelectionAnswer><Selections><Selection><SelectionIdentifier>a</SelectionIdentifier></Selection><Selection><SelectionIdentifier>a</SelectionIdentifier></Selection></Selections></SelectionAnswer>'), 'f'))).toBe(
      'AWS.MechanicalTurk.XMLParseError',
    );
    expect(turkCode(() => parseQuestion('', 'f'))).toBe('AWS.MissingParameters');
    const bomb = `<?xml version="1.0"?><!DOCTYPE QuestionForm [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>${form('<FreeTextAnswer/>', '<Text>&b;</Text>')}`;
    expect(turkCode(() => parseQuestion(bomb, 'f'))).toBe('AWS.MechanicalTurk.XMLParseError');
    // Inside an HTMLQuestion's CDATA a doctype is just the requester's HTML.
    expect(parseQuestion('<HTMLQuestion><HTMLContent><![CDATA[<!DOCTYPE html><p>x</p>]]></HTMLContent></HTMLQuestion>', 't').kind).toBe('HTMLQuestion');
  });

  it('keys campaigns by question shape and MaxAssignments', () => {
    const a = parseQuestion(form(`<SelectionAnswer>${selections}</SelectionAnswer>`, '<Text>one</Text>'), 'f');
    const b = parseQuestion(form(`<SelectionAnswer>${selections}</SelectionAnswer>`, '<Text>two</Text>'), 'f');
    expect(shapeKey(a, 3)).toBe(shapeKey(b, 3));
    expect(shapeKey(a, 3)).not.toBe(shapeKey(a, 2));
    expect(shapeKey(a, 3)).not.toBe(shapeKey({ ...a, labels: ['neg', 'pos'] }, 3));
  });
});

describe('Tally answer → QuestionFormAnswers', () => {
  it('writes selections, free text and form fields, escaped', () => {
    expect(toQuestionFormAnswers('QuestionForm', 'q1', { label: 'a&b' })).toContain('<Answer><QuestionIdentifier>q1</QuestionIdentifier><SelectionIdentifier>a&amp;b</SelectionIdentifier></Answer>');
    expect(toQuestionFormAnswers('QuestionForm', 'q1', { labels: ['x', 'y'] })).toContain('<SelectionIdentifier>x</SelectionIdentifier><SelectionIdentifier>y</SelectionIdentifier>');
    expect(toQuestionFormAnswers('QuestionForm', 'q1', { text: '{"not":"fields"}' })).toContain('<FreeText>{&quot;not&quot;:&quot;fields&quot;}</FreeText>');
    const html = toQuestionFormAnswers('HTMLQuestion', null, { text: JSON.stringify({ a: '1', tags: ['x', 'y'] }) });
    expect(html).toContain('<Answer><QuestionIdentifier>a</QuestionIdentifier><FreeText>1</FreeText></Answer><Answer><QuestionIdentifier>tags</QuestionIdentifier><FreeText>x|y</FreeText></Answer>');
    expect(toQuestionFormAnswers('ExternalQuestion', null, { text: 'plain <text>' })).toContain('<QuestionIdentifier>answer</QuestionIdentifier><FreeText>plain &lt;text&gt;</FreeText>');
    expect(html.startsWith('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<QuestionFormAnswers xmlns=')).toBe(true);
  });
});

describe('money strings', () => {
  it('parses dollars to cents exactly and formats them back', () => {
    expect(parseAmount('Reward', '0.05')).toBe(5);
    expect(parseAmount('Reward', '12')).toBe(1200);
    expect(parseAmount('Reward', '1.5')).toBe(150);
    expect(parseAmount('Reward', '0.29')).toBe(29); // 0.29 * 100 is 28.999… in floating point
    for (const bad of ['-1', '0.001', 'abc', '', '1e3', 5, null]) expect(() => parseAmount('Reward', bad)).toThrow(/Reward/);
    expect(() => parseAmount('BonusAmount', '0.00', { min: 1 })).toThrow(/at least 0.01/);
    expect([0, 5, 120, 123456, -120].map(formatAmount)).toEqual(['0.00', '0.05', '1.20', '1234.56', '-1.20']);
  });
});
