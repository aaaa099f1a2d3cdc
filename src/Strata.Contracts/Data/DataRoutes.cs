namespace Strata.Contracts.Data;

/// <summary>The Data module's routes: <c>DataApi</c> maps these templates under <see cref="Prefix"/> and
/// <see cref="HttpDataClient"/> fills them (<see cref="Http.RoutePath"/>).</summary>
public static class DataRoutes
{
    public const string Prefix = "/api/data";
    public const string Datasets = "/datasets";
    public const string Ingest = "/datasets/{name}";
    public const string Dataset = "/datasets/{id}";
    public const string Parquet = "/datasets/{id}/parquet";
    public const string Columns = "/datasets/{id}/columns";
}
