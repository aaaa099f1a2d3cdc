using System.Text.Json.Nodes;

namespace Strata.Contracts.Features;

/// <summary>A definitions file sent to <c>plan</c> or <c>apply</c>: its name (named in errors) and its YAML or JSON text.</summary>
public sealed record DefinitionFileContent(string? Name, string? Content);

/// <summary>Body of <c>POST /api/features/plan</c> and <c>/apply</c>: the repository's files, or one document as JSON;
/// <see cref="Force"/> applies a change that breaks registered models; <see cref="Description"/> is kept with the version.</summary>
public sealed record ApplyDefinitionsRequest(
    IReadOnlyList<DefinitionFileContent>? Files = null,
    JsonObject? Definitions = null,
    bool Force = false,
    string? Description = null);

/// <summary>One definition that a plan adds, changes or removes. <see cref="Breaking"/>: the change alters the values of
/// a view (its version changes) or removes it; <see cref="Models"/>: the registered model versions (<c>model/version</c>)
/// that read the view as it is today.</summary>
public sealed record DefinitionChange(
    string Kind,
    string Name,
    string Change,
    bool Breaking = false,
    IReadOnlyList<string>? Models = null,
    string? FromVersion = null,
    string? ToVersion = null);

/// <summary>What applying would do (plan) or did (apply): the applied version before and after, and each change.
/// <see cref="Applied"/> is false for a plan and for an apply that changed nothing.</summary>
public sealed record DefinitionsPlan(
    long CurrentVersion,
    long Version,
    bool Applied,
    IReadOnlyList<DefinitionChange> Changes,
    IReadOnlyList<string>? Blocked = null);

/// <summary>Data of <c>features.definitions_applied</c>: a new version of the feature definitions is in force.</summary>
public sealed record DefinitionsAppliedEvent(long Version, int Changes, string? Description);

/// <summary>An applied version of the definitions, as listed by <c>GET /api/features/definitions/versions</c>.</summary>
public sealed record DefinitionsVersionInfo(long Version, DateTimeOffset AppliedAt, string? Description, int Changes);
