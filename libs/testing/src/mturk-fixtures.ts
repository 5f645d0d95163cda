/** An MTurk QuestionForm with one radio-button question (identifier `animal`): "A cat" or "A dog". */
export const selectionForm = (text: string) => `<?xml version="1.0" encoding="UTF-8"?>
<QuestionForm xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd">
  <Question>
    <QuestionIdentifier>animal</QuestionIdentifier>
    <IsRequired>true</IsRequired>
    <QuestionContent><Text>${text}</Text></QuestionContent>
    <AnswerSpecification>
      <SelectionAnswer>
        <StyleSuggestion>radiobutton</StyleSuggestion>
        <Selections>
          <Selection><SelectionIdentifier>cat</SelectionIdentifier><Text>A cat</Text></Selection>
          <Selection><SelectionIdentifier>dog</SelectionIdentifier><Text>A dog</Text></Selection>
        </Selections>
      </SelectionAnswer>
    </AnswerSpecification>
  </Question>
</QuestionForm>`;
