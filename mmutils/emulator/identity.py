"""Who the lab's dummy credentials are: the ``SageMakerRole`` execution role, as in a notebook.

On a SageMaker notebook instance the caller is an assumed execution role, which
``sagemaker.get_execution_role()`` turns into the role's ARN. moto answers unknown credentials
as ``arn:aws:sts::123456789012:user/moto``, a user, which that function rejects ("The current
AWS identity is not a role"). Here GetCallerIdentity with the lab's dummy access key
(``mmlab emulator env``: ``testing``) answers
``arn:aws:sts::123456789012:assumed-role/SageMakerRole/mmlab``, and the role exists in the
emulated IAM (``iam.get_role``, which the SDK calls for the role's path). Credentials moto
issued (e.g. by AssumeRole) keep their own identity.
"""

from __future__ import annotations

import json

from mmutils.emulator import patch_table

ROLE_NAME = "SageMakerRole"
SESSION_NAME = "mmlab"
#: the access keys of the lab's dummy credentials: ``mmlab emulator env`` exports ``testing``,
#: which moto reads as ``AKIAEXAMPLE`` (it only recognises 20-character key ids)
LAB_ACCESS_KEYS = ("testing", "AKIAEXAMPLE")
_TARGET = "moto.sts.models.STSBackend.get_caller_identity"
_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def lab_role(account: str, partition: str = "aws"):
    """The emulated IAM's ``SageMakerRole`` (created when missing)."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account][partition]
    for role in iam.get_roles():
        if role.name == ROLE_NAME:
            return role
    return iam.create_role(
        role_name=ROLE_NAME,
        assume_role_policy_document=_TRUST,
        path="/",
        permissions_boundary=None,
        description="execution role of the mmlab emulator's default credentials",
        tags=[],
        max_session_duration=None,
    )


def _get_caller_identity(original):
    def get_caller_identity(self, access_key_id: str, region: str):
        user_id, arn, account = original(self, access_key_id, region)
        if access_key_id in LAB_ACCESS_KEYS and arn.endswith(":user/moto"):
            partition = arn.split(":", 2)[1]
            role = lab_role(account, partition)
            return (
                f"{role.id}:{SESSION_NAME}",
                f"arn:{partition}:sts::{account}:assumed-role/{ROLE_NAME}/{SESSION_NAME}",
                account,
            )
        return user_id, arn, account

    get_caller_identity.__wrapped__ = original
    return get_caller_identity


def install() -> None:
    """Answer the lab's dummy credentials as the assumed ``SageMakerRole``."""
    patch_table.wrap(_TARGET, _get_caller_identity)
