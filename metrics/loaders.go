package metrics

import "context"

// Loaders observes the dataloaders' batches (graph/loaders.Observer): each batch's key
// count goes into customer_service_dataloader_batch_keys{loader}.
func (m *Metrics) Loaders() LoaderObserver { return LoaderObserver{m} }

// LoaderObserver is what Loaders returns.
type LoaderObserver struct{ m *Metrics }

// BatchStart observes the batch's size.
func (o LoaderObserver) BatchStart(ctx context.Context, loader string, keys int) context.Context {
	o.m.loaders.get(loader).Observe(float64(keys))
	return ctx
}

// BatchEnd does nothing: a batch's time is that of its SQL, measured there.
func (LoaderObserver) BatchEnd(context.Context, string, error) {}
