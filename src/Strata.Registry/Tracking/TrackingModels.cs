namespace Strata.Registry.Tracking;

/// <summary>MLflow's view types for searches.</summary>
public enum ViewType
{
    ActiveOnly,
    DeletedOnly,
    All,
}

/// <summary>A page of results and whether more follow.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, bool More);
