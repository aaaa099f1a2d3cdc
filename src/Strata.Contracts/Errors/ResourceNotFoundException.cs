namespace Strata.Contracts.Errors;

/// <summary>A referenced resource does not exist. Becomes a 404 problem.</summary>
public sealed class ResourceNotFoundException(string resource, string id)
    : Exception($"{resource} '{id}' does not exist")
{
    public string Resource { get; } = resource;
    public string Id { get; } = id;
}
