"""The kernel every domain uses the same way.

- :mod:`~involve.kernel.errors`: one base for the errors a domain raises to refuse something,
  and one for an illegal move of a state machine;
- :mod:`~involve.kernel.states`: the state machine of a model with a status;
- :mod:`~involve.kernel.steps`: the one step of a view that changes something;
- :mod:`~involve.kernel.forms`: the form base with plain-words messages, the empty form, the
  checkbox list;
- :mod:`~involve.kernel.spreadsheet`: cells a spreadsheet shows as text;
- :mod:`~involve.kernel.tokens`: signed links;
- :mod:`~involve.kernel.clock`: the organisation's today and now, display, working days, crontabs;
- :mod:`~involve.kernel.domains`: what a domain registers with the app.

The kernel imports no domain.
"""
