using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Strata.Contracts.Http;

namespace Strata.Contracts.Data;

/// <summary><see cref="IDataClient"/> over the Data module's HTTP API.</summary>
public sealed class HttpDataClient(HttpClient http) : IDataClient
{
    public async Task<DatasetVersion> IngestCsvAsync(string name, Stream csv, CleaningRules rules, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var query = new StringBuilder(RoutePath.Of(DataRoutes.Prefix, DataRoutes.Ingest, name)).Append($"?drop_missing={(rules.DropMissing ? "true" : "false")}");
        foreach (var filter in rules.Filters)
        {
            query.Append("&filter=").Append(Uri.EscapeDataString(filter.ToString()));
        }
        var url = query.ToString();
        return (await ModuleHttp.SendAsync<DatasetVersion>(http, ModuleNames.Data, () =>
        {
            var content = new StreamContent(csv);
            content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
            return new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        }, cancellationToken))!;
    }

    public async Task<DatasetVersion> IngestParquetAsync(string name, Stream parquet, CancellationToken cancellationToken = default)
    {
        var url = RoutePath.Of(DataRoutes.Prefix, DataRoutes.Ingest, name);
        return (await ModuleHttp.SendAsync<DatasetVersion>(http, ModuleNames.Data, () =>
        {
            var content = new StreamContent(parquet);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.apache.parquet");
            return new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        }, cancellationToken))!;
    }

    public async Task<Stream> OpenParquetAsync(string id, CancellationToken cancellationToken = default)
    {
        var response = await ModuleHttp.SendRawAsync(http, ModuleNames.Data,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(DataRoutes.Prefix, DataRoutes.Parquet, id)), cancellationToken);
        try
        {
            await ModuleHttp.EnsureSuccessAsync(response, ModuleNames.Data, cancellationToken);
            return new ResponseStream(response, await response.Content.ReadAsStreamAsync(cancellationToken));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>The body stream of a response that disposes the response with it.</summary>
    private sealed class ResponseStream(HttpResponseMessage response, Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                response.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    public Task<DatasetVersion?> GetDatasetAsync(string id, CancellationToken cancellationToken = default) =>
        ModuleHttp.SendAsync<DatasetVersion>(http, ModuleNames.Data,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(DataRoutes.Prefix, DataRoutes.Dataset, id)), cancellationToken, notFoundAsNull: true);

    public async Task<IReadOnlyList<DatasetVersion>> ListDatasetsAsync(string? name = null, CancellationToken cancellationToken = default)
    {
        var datasets = RoutePath.Of(DataRoutes.Prefix, DataRoutes.Datasets);
        var url = name is null ? datasets : $"{datasets}?name={Uri.EscapeDataString(name)}";
        return await ModuleHttp.SendAsync<List<DatasetVersion>>(http, ModuleNames.Data,
            () => new HttpRequestMessage(HttpMethod.Get, url), cancellationToken) ?? [];
    }

    public async Task<ColumnFrame> ReadColumnsAsync(string id, IReadOnlyList<string>? columns = null, CancellationToken cancellationToken = default)
    {
        var url = new StringBuilder(RoutePath.Of(DataRoutes.Prefix, DataRoutes.Columns, id));
        if (columns is { Count: > 0 })
        {
            url.Append('?').AppendJoin('&', columns.Select(c => "column=" + Uri.EscapeDataString(c)));
        }
        var path = url.ToString();
        return (await ModuleHttp.SendAsync<ColumnFrame>(http, ModuleNames.Data,
            () => new HttpRequestMessage(HttpMethod.Get, path), cancellationToken))!;
    }
}
