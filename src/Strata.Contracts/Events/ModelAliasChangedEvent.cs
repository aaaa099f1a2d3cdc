namespace Strata.Contracts.Events;

/// <summary>Data of <c>model.alias_changed</c> (schema v2): an alias now points at <see cref="Version"/> (was
/// <see cref="PreviousVersion"/>); a null <see cref="Version"/> means the alias was deleted.</summary>
public sealed record ModelAliasChangedEvent(string Model, string Alias, int? Version, int? PreviousVersion);
