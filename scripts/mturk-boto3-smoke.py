"""A Mechanical Turk requester script run unchanged against Tally: only the endpoint and keys differ.

    TALLY_MTURK_ENDPOINT=http://localhost:3000/api/mturk AWS_ACCESS_KEY_ID=AKTL... AWS_SECRET_ACCESS_KEY=... \
        python3 scripts/mturk-boto3-smoke.py

Needs boto3. Creates one HIT (charged to the key's requester), reads it back, lists HITs and
assignments, and checks that an unknown HIT raises the RequestError MTurk raises. Prints JSON.
"""
import json
import os
import sys

import boto3
from botocore.exceptions import ClientError

QUESTION = """<QuestionForm xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd">
  <Question><QuestionIdentifier>sentiment</QuestionIdentifier>
    <QuestionContent><Text>"Great product, would buy again." Is this review positive?</Text></QuestionContent>
    <AnswerSpecification><SelectionAnswer><Selections>
      <Selection><SelectionIdentifier>yes</SelectionIdentifier><Text>Yes</Text></Selection>
      <Selection><SelectionIdentifier>no</SelectionIdentifier><Text>No</Text></Selection>
    </Selections></SelectionAnswer></AnswerSpecification>
  </Question>
</QuestionForm>"""

mturk = boto3.client(
    "mturk",
    region_name="us-east-1",
    endpoint_url=os.environ["TALLY_MTURK_ENDPOINT"],
    aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
)

out = {"balance": mturk.get_account_balance()["AvailableBalance"]}
hit = mturk.create_hit(
    Title="Review sentiment", Description="Is the review positive?", Keywords="sentiment, reviews",
    Reward="0.05", MaxAssignments=3, LifetimeInSeconds=3600, AssignmentDurationInSeconds=300,
    AutoApprovalDelayInSeconds=86400, Question=QUESTION, UniqueRequestToken="boto3-smoke-" + os.environ.get("SMOKE_RUN", "1"),
)["HIT"]
out["hit"] = {k: hit[k] for k in ("HITId", "HITStatus", "MaxAssignments", "Reward")}
out["expiration_is_datetime"] = hasattr(hit["Expiration"], "isoformat")
out["get_hit_status"] = mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"]
out["listed"] = hit["HITId"] in [h["HITId"] for h in mturk.list_hits(MaxResults=100)["HITs"]]
out["assignments"] = mturk.list_assignments_for_hit(HITId=hit["HITId"], AssignmentStatuses=["Submitted"])["NumResults"]
out["balance_after"] = mturk.get_account_balance()["AvailableBalance"]
try:
    mturk.get_hit(HITId="00000000-0000-0000-0000-000000000000")
    out["unknown_hit"] = "no error"
except ClientError as e:
    out["unknown_hit"] = [e.response["Error"]["Code"], e.response.get("TurkErrorCode")]
try:
    boto3.client("mturk", region_name="us-east-1", endpoint_url=os.environ["TALLY_MTURK_ENDPOINT"],
                 aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="wrong").get_account_balance()
    out["bad_secret"] = "no error"
except ClientError as e:
    out["bad_secret"] = e.response["Error"]["Code"]
json.dump(out, sys.stdout)
