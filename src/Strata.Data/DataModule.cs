using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Strata.Contracts;
using Strata.Contracts.Data;
using Strata.Contracts.Events;
using Strata.Data.Ingestion;
using Strata.Data.Storage;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Modules;

namespace Strata.Data;

/// <summary>DI registration of the Data module (hosted in this process).</summary>
public static class DataModule
{
    /// <summary>The Data module: datasets, their versions and the <c>data.ingested</c> event.</summary>
    public static ModuleDescriptor Descriptor { get; } = new()
    {
        Name = ModuleNames.Data,
        Authorization = DataAuthorization.Table,
        Calls = [ModuleNames.Events],
        UrlPrefixes = [DataRoutes.Prefix],
        AddServices = c => c.Services.AddDataModule(),
        MapEndpoints = app => app.MapDataApi(),
        // Ingestion is content-addressed: a resent dataset is the same version.
        AddHttpClient = (c, url) => c.Services.AddModuleHttpClient<IDataClient, HttpDataClient>(ModuleNames.Data, url, retryUnsafeMethods: true),
    };

    public static IServiceCollection AddDataModule(this IServiceCollection services)
    {
        services.AddSingleton(sp => new DatasetCatalog(sp.GetRequiredService<IOptions<StrataOptions>>().Value.ModuleDirectory(ModuleNames.Data),
            sp.GetService<IEventEncoder>()));
        services.AddSingleton<IOutboxStore>(sp => sp.GetRequiredService<DatasetCatalog>());
        services.AddOptions<DataOptions>().BindConfiguration(DataOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new CsvIngestion(sp.GetRequiredService<DatasetCatalog>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<DataOptions>>().Value.MaxColumns));
        services.AddSingleton<DataService>();
        services.AddSingleton<IDataClient>(sp => sp.GetRequiredService<DataService>());
        return services;
    }
}
