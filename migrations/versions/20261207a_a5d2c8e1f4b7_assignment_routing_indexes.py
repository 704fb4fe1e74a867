"""routing's counts read only what they count: (rule_id, partner_id, id), (partner_id, offered_at)

Two questions routing asks at every lead read a vendor's whole history, so
routing slowed down with every month of hand-overs:

- whose turn it is under a round-robin rule, the partner whose last lead from the
  rule is oldest: asked per eligible partner, ``max(id)`` on (rule_id, partner_id,
  id) is one step down the index; on (rule_id, partner_id) it read every
  assignment the rule ever made, from the table (112 ms at 400,000 of them);
- how many leads each capped partner was offered today: (partner_id, status)
  read every hand-over the partner ever had to keep today's (32 ms for 250
  partners at 300,000 hand-overs); (partner_id, offered_at) reads today's.

Revision ID: a5d2c8e1f4b7
Revises: c3a8e5f1d7b2
Created: 2026-12-07 05:00:00
"""

from alembic import op

revision = "a5d2c8e1f4b7"
down_revision = "c3a8e5f1d7b2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_assignment_rule_partner")
        batch_op.create_index(
            "ix_assignment_rule_partner", ["rule_id", "partner_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_assignment_partner_offered", ["partner_id", "offered_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_assignment_partner_offered")
        batch_op.drop_index("ix_assignment_rule_partner")
        batch_op.create_index("ix_assignment_rule_partner", ["rule_id", "partner_id"], unique=False)
