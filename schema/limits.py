"""Query limits checked before execution: depth, aliases (fragment-safe), and a cost that charges lists by `first`.

A refused document gets ``QUERY_TOO_COMPLEX`` and never reaches a resolver, so it costs no backend call.
Fragments are measured once each and multiplied by how often they are spread, so a "fragment bomb" (each
fragment spreading the next ten times) is priced without being expanded.

Cost model: every field instance costs 1; a field with a ``first`` argument (connections) multiplies the
cost of its selection by ``first`` (its default when omitted); other list fields multiply by
``list_factor`` (they hold a handful of items: features, evaluations, tags). Variables are resolved, so
``first: $n`` is priced by the value sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    value_from_ast,
)
from graphql.type.definition import GraphQLInterfaceType, GraphQLNamedType, get_named_type
from strawberry.extensions import SchemaExtension

__all__ = ["Measure", "QueryLimits", "measure_operation"]


@dataclass(frozen=True, slots=True)
class Measure:
    """What one selection set costs: its deepest nesting, its aliases and its weighted field count."""

    depth: int
    aliases: int
    cost: float


_ZERO = Measure(0, 0, 0.0)


def _unwrap_is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


class _Measurer:
    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode],
                 variables: Mapping[str, Any], list_factor: int) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.list_factor = list_factor
        self._memo: dict[tuple[str, str], Measure] = {}

    def _first(self, node: FieldNode, field_def: Any) -> int | None:
        arg_def = field_def.args.get("first") if field_def is not None else None
        if arg_def is None:
            return None
        value: Any = arg_def.default_value
        for argument in node.arguments or ():
            if argument.name.value == "first":
                value = value_from_ast(argument.value, arg_def.type, dict(self.variables))
        try:
            return max(int(value), 0) if value is not None else 20
        except (TypeError, ValueError):
            return 20

    def selection(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None) -> Measure:
        if selection_set is None:
            return _ZERO
        depth, aliases, cost = 0, 0, 0.0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                measured = self.field(node, parent)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                scope = self.schema.get_type(condition.name.value) if condition is not None else parent
                inner = self.selection(node.selection_set, scope)
                measured = Measure(inner.depth, inner.aliases, inner.cost)
            elif isinstance(node, FragmentSpreadNode):
                measured = self.fragment(node.name.value)
            else:  # pragma: no cover - graphql-core has no other selection kinds
                continue
            depth = max(depth, measured.depth)
            aliases += measured.aliases
            cost += measured.cost
        return Measure(depth, aliases, cost)

    def fragment(self, name: str) -> Measure:
        definition = self.fragments.get(name)
        if definition is None:
            return _ZERO
        key = (name, definition.type_condition.name.value)
        if key not in self._memo:
            self._memo[key] = _ZERO  # cycles are refused by validation; this only guards recursion
            self._memo[key] = self.selection(definition.selection_set,
                                             self.schema.get_type(definition.type_condition.name.value))
        return self._memo[key]

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        field_def = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            field_def = parent.fields.get(node.name.value)
        child_type = get_named_type(field_def.type) if field_def is not None else None
        inner = self.selection(node.selection_set, child_type)
        first = self._first(node, field_def)
        if first is not None:
            factor = float(first)
        elif node.name.value == "edges":
            factor = 1.0  # a connection's edges: its `first` already priced them
        elif field_def is not None and _unwrap_is_list(field_def.type) and node.selection_set is not None:
            factor = float(self.list_factor)
        else:
            factor = 1.0
        alias = 1 if node.alias is not None else 0
        return Measure(depth=1 + inner.depth, aliases=alias + int(inner.aliases * max(factor, 1.0)),
                       cost=1.0 + factor * inner.cost)


def measure_operation(schema: GraphQLSchema, document: Any, operation_name: str | None,
                      variables: Mapping[str, Any] | None, list_factor: int = 10) -> Measure | None:
    """Measure the operation that will run; None when the document names no runnable operation."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1:
        return None
    operation = operations[0]
    root = {OperationType.QUERY: schema.query_type, OperationType.MUTATION: schema.mutation_type,
            OperationType.SUBSCRIPTION: schema.subscription_type}[operation.operation]
    measurer = _Measurer(schema, fragments, variables or {}, list_factor)
    return measurer.selection(operation.selection_set, root)


class QueryLimits(SchemaExtension):
    """Refuse, before execution, documents deeper, more aliased or costlier than the limits."""

    def __init__(self, *, max_depth: int = 15, max_aliases: int = 100, max_cost: float = 50_000,
                 list_factor: int = 10) -> None:
        super().__init__()
        self.max_depth = max_depth
        self.max_aliases = max_aliases
        self.max_cost = max_cost
        self.list_factor = list_factor

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None and ctx.result is None:
            measured = measure_operation(ctx.schema._schema, document, ctx.operation_name, ctx.variables,
                                         self.list_factor)
            problem = self._problem(measured) if measured is not None else None
            if problem is not None:
                error = GraphQLError(problem, extensions={"code": "QUERY_TOO_COMPLEX"})
                ctx.result = GraphQLExecutionResult(data=None, errors=[error])
        yield

    def _problem(self, measured: Measure) -> str | None:
        if measured.depth > self.max_depth:
            return f"The query is {measured.depth} levels deep; at most {self.max_depth} are allowed."
        if measured.aliases > self.max_aliases:
            return f"The query uses {measured.aliases} aliases (fragments counted); at most {self.max_aliases}."
        if measured.cost > self.max_cost:
            return (f"The query could fetch about {measured.cost:.0f} items; at most {self.max_cost:.0f} are "
                    "allowed (lower `first` or nest fewer lists).")
        return None

