// Placeholder until the example services land.
console.log('demo: examples not built yet');
