namespace Strata.Contracts.Events;

/// <summary>Data of <c>model.alias_changed</c>: an alias now points at <see cref="Version"/> (was <see cref="PreviousVersion"/>).</summary>
public sealed record ModelAliasChangedEvent(string Model, string Alias, int Version, int? PreviousVersion);
