"""The grader behind ``chainrule check``: a learner's self-check, and the teacher's forgery-safe grade."""
