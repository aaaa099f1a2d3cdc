using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts;
using Strata.Contracts.Data;
using Strata.Contracts.Errors;
using Strata.ServiceDefaults;

namespace Strata.Data;

/// <summary>The Data module's HTTP API under <c>/api/data</c>.</summary>
public static class DataApi
{
    public const long MaxCsvBytes = 1L << 30;
    public const string ParquetMediaType = "application/vnd.apache.parquet";

    public static IEndpointRouteBuilder MapDataApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(DataRoutes.Prefix).InModule(ModuleNames.Data).WithTags("Data");
        api.MapPost(DataRoutes.Ingest, Ingest).Accepts<string>("text/csv", "text/plain", "application/octet-stream", ParquetMediaType)
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxCsvBytes))
            .WithSummary("Ingest a CSV (or, with Content-Type application/vnd.apache.parquet, a Parquet) body as a dataset version; query: drop_missing=true|false, filter=<column><op><number> (repeatable)");
        api.MapGet(DataRoutes.Parquet, async (string id, IDataClient data, CancellationToken ct) =>
            TypedResults.Stream(await data.OpenParquetAsync(id, ct), ParquetMediaType, $"{id}.parquet"))
            .WithSummary("Download a dataset version's rows as Parquet");
        api.MapGet(DataRoutes.Datasets, async (string? name, IDataClient data, CancellationToken ct) => TypedResults.Ok(await data.ListDatasetsAsync(name, ct)));
        api.MapGet(DataRoutes.Dataset, GetDataset);
        api.MapGet(DataRoutes.Columns, async (string id, string[]? column, IDataClient data, CancellationToken ct) =>
            TypedResults.Ok(await data.ReadColumnsAsync(id, column, ct)));
        return app;
    }

    /// <summary>201 for a new version; 200 when identical content and rules already made this version (ingestion is idempotent).</summary>
    private static async Task<Results<Created<DatasetVersion>, Ok<DatasetVersion>>> Ingest(
        string name, HttpRequest request, IDataClient data, TimeProvider time, CancellationToken ct)
    {
        var started = time.GetUtcNow();
        var dropMissing = request.Query["drop_missing"].ToString() switch
        {
            "" or "true" or "1" => true,
            "false" or "0" => false,
            var other => throw new InputValidationException("drop_missing", $"'{other}' is not true or false"),
        };
        var filters = request.Query["filter"].Select(f => RowFilter.Parse(f ?? string.Empty)).ToList();
        DatasetVersion version;
        if (string.Equals(request.ContentType, ParquetMediaType, StringComparison.OrdinalIgnoreCase))
        {
            if (filters.Count > 0 || request.Query.ContainsKey("drop_missing"))
            {
                throw new InputValidationException("filter", "cleaning rules apply to CSV ingestion; a Parquet body is ingested as it is");
            }
            version = await data.IngestParquetAsync(name, request.Body, ct);
        }
        else
        {
            version = await data.IngestCsvAsync(name, request.Body, new CleaningRules(dropMissing, filters), ct);
        }
        return version.CreatedAt < started
            ? TypedResults.Ok(version)
            : TypedResults.Created($"/api/data/datasets/{version.Id}", version);
    }

    private static async Task<Results<Ok<DatasetVersion>, ProblemHttpResult>> GetDataset(string id, IDataClient data, CancellationToken ct) =>
        await data.GetDatasetAsync(id, ct) is { } version ? TypedResults.Ok(version) : Problems.NotFound("dataset", id);
}
